import { decodeDay, encodeDay } from "../energy/day-record.js";
import type { CommunityState } from "./community-state.js";
import { type DirtyDay, addCounts, addSegment } from "./day-ledger.js";
import type { AggregatorPorts } from "./ports.js";
import type { TakenShards } from "./snapshot-shards.js";

/** A community's state taken for storing: its changed shards and days. */
export interface TakenState extends TakenShards {
  readonly communityId: string;
  readonly days: DirtyDay[];
  /** The community's final data time, when it moved on. */
  readonly finalMs: number | undefined;
}

export function takeState(state: CommunityState): TakenState {
  return { communityId: state.communityId, ...state.takeDirtyShards(), days: state.takeDirtyDays(), finalMs: state.finalToStore() };
}

/** A community left out of a store because its aggregate was not stored (it is retried). */
class NotAnnounced extends Error {}

/**
 * Stores what `takeState` took — per community its changed days of energy (`ec_energy`),
 * then the changed shards of its per-meter snapshot (`ec_agg_state`), then deletes the keys of
 * an old layout. A community whose aggregate was not stored (`notAnnounced`) is not stored
 * either: its snapshot would hold readings its stored aggregate lacks. Resolves the communities
 * not stored; their state is put back, to be taken again. `onError` hears of each failed store.
 */
export async function storeStates(
  ports: Pick<AggregatorPorts, "state" | "energy">,
  states: ReadonlyMap<string, CommunityState>,
  taken: readonly TakenState[],
  notAnnounced: ReadonlySet<string>,
  onError: (err: unknown) => void,
): Promise<Set<string>> {
  const failed = new Set<string>();
  await Promise.all(
    taken.map(async ({ communityId, shards, taken: meters, obsolete, days, finalMs }) => {
      const state = states.get(communityId)!;
      const unstoredDays = new Set(days);
      try {
        if (notAnnounced.has(communityId)) throw new NotAnnounced();
        // Every day settled before any is put back: one stored must not be added again.
        const failure = (
          await Promise.allSettled(
            days.map(async (day) => {
              await storeDay(ports, communityId, day);
              unstoredDays.delete(day);
            }),
          )
        ).find((result) => result.status === "rejected");
        if (failure) throw failure.reason;
        await Promise.all(shards.map(([key, snapshot]) => ports.state.put(key, JSON.stringify(snapshot))));
        // Only once the new layout is stored may the old one go.
        await Promise.all(obsolete.map((key) => ports.state.purge(key)));
        state.stored(
          shards.map(([key]) => key),
          obsolete,
        );
        // After the snapshot: what it says is final is stored, days and all.
        if (finalMs !== undefined) {
          await ports.energy.putFinal(communityId, finalMs);
          state.finalStored(finalMs);
        }
      } catch (err) {
        failed.add(communityId);
        state.putBack(meters);
        state.putBackDays(unstoredDays);
        if (!(err instanceof NotAnnounced)) onError(err);
      }
    }),
  );
  return failed;
}

/** Writes a day of a community's energy: a whole day as it is, what came for an older day added to its record (read, add, write). */
async function storeDay(ports: Pick<AggregatorPorts, "energy">, communityId: string, { merge, segments, ...day }: DirtyDay): Promise<void> {
  let whole = day;
  if (merge) {
    const record = await ports.energy.get(communityId, day.dayStartMs);
    whole = (record && decodeDay(record)) || { dayStartMs: day.dayStartMs, minutes: new Map(), cursors: new Map(), late: new Map() };
    // Against the stored record's cursors: a segment it holds already (stored before a crash) is not added again.
    for (const segment of segments) addSegment(whole, segment);
    addCounts(whole.late, day.late);
  }
  await ports.energy.put(communityId, day.dayStartMs, encodeDay(whole.dayStartMs, whole.minutes, whole.cursors, whole.late));
}

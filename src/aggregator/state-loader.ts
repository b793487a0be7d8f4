import { ecwatchAggregateFromJson } from "../domain/aggregate.js";
import { decodeDay } from "../energy/day-record.js";
import { CommunityState } from "./community-state.js";
import { CONTROL_KEY_PREFIX } from "./lease.js";
import type { AggregatorPorts } from "./ports.js";
import { type CommunitySnapshot, communityOfShardKey } from "./snapshot-shards.js";

/** A partition's states, and the communities among them whose stored aggregate is another writer's. */
export interface LoadedStates {
  readonly states: Map<string, CommunityState>;
  /** Their aggregate in `ec_latest` is not ecwatch's (issue 18): to be written again. */
  readonly foreign: readonly string[];
}

/**
 * A partition's state as its last owner stored it: every stored shard merged, each epoch and
 * version carried on from the stored aggregate when that is newer (it is written before the
 * snapshot), and the days of energy each community holds restored.
 */
export async function loadStates(
  ports: Pick<AggregatorPorts, "state" | "latest" | "energy">,
  owns: (communityId: string) => boolean,
  staleAfterMs: number,
): Promise<LoadedStates> {
  const states = new Map<string, CommunityState>();
  for (const key of await ports.state.keys()) {
    if (key.startsWith(CONTROL_KEY_PREFIX)) continue;
    const communityId = communityOfShardKey(key);
    if (!owns(communityId)) continue;
    const entry = await ports.state.get(key);
    if (!entry) continue;
    let state = states.get(communityId);
    if (!state) states.set(communityId, (state = new CommunityState(communityId, staleAfterMs)));
    state.restore(JSON.parse(entry.value) as CommunitySnapshot, key);
  }
  // A stored aggregate without a snapshot: the owner stored it and died before its snapshot (the
  // readings come back from the stream). Its epoch goes on, rather than one from this machine's
  // clock, which may be behind the other's. A value that is not ecwatch's (the prototype's carry
  // no version: issue 18) continues nothing; a community with state of its own writes its
  // aggregate again over it, one without starts a new epoch when its readings come.
  const foreign: string[] = [];
  for (const communityId of await ports.latest.communities()) {
    if (!owns(communityId)) continue;
    const json = await ports.latest.get(communityId);
    if (json === undefined) continue;
    const stored = ecwatchAggregateFromJson(json, communityId);
    if (!stored) {
      if (states.has(communityId)) foreign.push(communityId);
      continue;
    }
    let state = states.get(communityId);
    if (!state) states.set(communityId, (state = new CommunityState(communityId, staleAfterMs)));
    state.continueFrom(stored);
  }
  await Promise.all(
    [...states.values()].flatMap((state) =>
      state.heldDays().map(async (dayStartMs) => {
        const record = await ports.energy.get(state.communityId, dayStartMs);
        const stored = record ? decodeDay(record) : undefined;
        if (stored) state.restoreDay(stored);
      }),
    ),
  );
  return { states, foreign };
}

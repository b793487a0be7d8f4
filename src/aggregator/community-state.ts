import { type Aggregate, netWatts } from "../domain/aggregate.js";
import { type MeterState, type Totals, computeTotals, isNewer } from "../domain/totals.js";
import { type Energy, heldEnergy } from "../energy/meter-energy.js";
import { DayLedger, type DirtyDay } from "./day-ledger.js";
import { type CommunitySnapshot, SnapshotShards, type TakenShards } from "./snapshot-shards.js";

export type { MeterState } from "../domain/totals.js";
export type { DirtyDay } from "./day-ledger.js";

function sameTotals(a: Totals, b: Totals): boolean {
  return a.genW === b.genW && a.conW === b.conW && a.meters === b.meters && a.stale === b.stale && a.measuredAtMs === b.measuredAtMs;
}

/**
 * Per-meter state of one community, with the version of its aggregate, the layout of its
 * snapshot (snapshot-shards.ts) and its energy per minute (day-ledger.ts; a reading's power
 * held at most `holdLimitMs`, meter-energy.ts). Pure: no I/O.
 */
export class CommunityState {
  private readonly meters = new Map<string, MeterState>();
  private readonly shards: SnapshotShards;
  private readonly ledger = new DayLedger();
  private version = 0;
  private lastTotals: Totals | undefined;

  constructor(
    readonly communityId: string,
    private readonly holdLimitMs: number,
  ) {
    this.shards = new SnapshotShards(communityId);
  }

  /**
   * Merges a stored shard: per meter the newer state wins, so shards left from an earlier
   * shard count, or a snapshot older than the aggregate, do no harm.
   */
  restore(snapshot: CommunitySnapshot, key: string = this.communityId): void {
    this.shards.restored(key, Object.keys(snapshot.meters).length);
    this.version = Math.max(this.version, snapshot.version);
    for (const [meterId, [genW, conW, measuredAtMs, seq]] of Object.entries(snapshot.meters)) {
      const state = { genW, conW, measuredAtMs, seq };
      if (isNewer(state, this.meters.get(meterId))) this.meters.set(meterId, state);
      this.ledger.holdDaysUpTo(measuredAtMs);
    }
  }

  /** The days held whole once restored: load their stored records (`restoreDay`) before applying readings. */
  heldDays(): number[] {
    return this.meters.size ? this.ledger.heldDays() : [];
  }

  /** Loads a stored day's per-minute sums (a day of `heldDays`). */
  restoreDay(dayStartMs: number, minutes: ReadonlyMap<number, Energy>): void {
    this.ledger.restoreDay(dayStartMs, minutes);
  }

  /** Versions only grow: a stored aggregate may be newer than the snapshot (written first). */
  raiseVersionTo(version: number): void {
    this.version = Math.max(this.version, version);
  }

  /** Applies a reading; returns whether it changed the state (false for duplicates and older readings). */
  apply(meterId: string, reading: MeterState): boolean {
    const previous = this.meters.get(meterId);
    if (!isNewer(reading, previous)) return false;
    this.meters.set(meterId, reading);
    this.shards.changed(meterId);
    this.ledger.holdDaysUpTo(reading.measuredAtMs);
    if (previous) this.ledger.add(heldEnergy(previous, reading, this.holdLimitMs));
    return true;
  }

  /** The days whose energy changed since the last call: see DayLedger.take. If storing a day fails, hand it to `putBackDays`. */
  takeDirtyDays(): DirtyDay[] {
    return this.ledger.take();
  }

  /** After a failed store of days: they are dirty again. */
  putBackDays(days: Iterable<DirtyDay>): void {
    this.ledger.putBack(days);
  }

  /**
   * The aggregate after the readings applied so far, with a new version when the totals
   * differ from the last aggregate returned; undefined when nothing visible changed.
   */
  nextAggregate(staleAfterMs: number, now: Date): Aggregate | undefined {
    const totals = computeTotals(this.meters.values(), staleAfterMs);
    if (this.lastTotals && sameTotals(this.lastTotals, totals)) return undefined;
    this.lastTotals = totals;
    this.version += 1;
    return {
      communityId: this.communityId,
      genW: totals.genW,
      conW: totals.conW,
      netW: netWatts(totals.genW, totals.conW),
      meters: totals.meters,
      stale: totals.stale,
      measuredAt: new Date(totals.measuredAtMs).toISOString(),
      aggregatedAt: now.toISOString(),
      version: this.version,
    };
  }

  /** What to store of the snapshot (see SnapshotShards.take), with the current version. If storing fails, hand `taken` to `putBack`. */
  takeDirtyShards(): TakenShards {
    return this.shards.take(this.meters, this.version);
  }

  /** Records what a successful store wrote and deleted. */
  stored(written: Iterable<string>, deleted: Iterable<string>): void {
    this.shards.stored(written, deleted);
  }

  /** The last aggregate returned could not be stored: the next call of `nextAggregate` returns one again. */
  aggregateNotStored(): void {
    this.lastTotals = undefined;
  }

  /** After a failed store: the meters are dirty again and the next aggregate is emitted anew. */
  putBack(taken: Iterable<string>): void {
    this.shards.putBack(taken);
    this.lastTotals = undefined;
  }
}

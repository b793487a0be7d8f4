import { type Aggregate, type AggregatePosition, netWatts, supersedes } from "../domain/aggregate.js";
import type { MeterState, Totals } from "../domain/totals.js";
import { CommunityMeters } from "../energy/community-meters.js";
import type { Day } from "../energy/day-record.js";
import type { Offered } from "../energy/meter-integrator.js";
import { restoredMeter } from "../energy/stored-meter.js";
import { DayLedger, type DirtyDay } from "./day-ledger.js";
import { type CommunitySnapshot, SnapshotShards, type TakenShards } from "./snapshot-shards.js";

export type { MeterState } from "../domain/totals.js";
export type { DirtyDay } from "./day-ledger.js";

function sameTotals(a: Totals, b: Totals): boolean {
  return a.genW === b.genW && a.conW === b.conW && a.meters === b.meters && a.stale === b.stale && a.measuredAtMs === b.measuredAtMs;
}

/**
 * Per-meter state of one community — each meter's readings integrated by the rule of
 * validity.ts (energy/meter-integrator.ts) — with the epoch and version of its aggregate, the layout of
 * its snapshot (snapshot-shards.ts) and its energy per minute (day-ledger.ts). The community's
 * data time is its newest reading: it makes meters stale and energy final. Pure: no I/O.
 */
export class CommunityState {
  private readonly meters: CommunityMeters;
  private readonly shards: SnapshotShards;
  private readonly ledger = new DayLedger();
  /** The epoch and version of the last aggregate: versions grow within an epoch, kept across restarts and handovers. */
  private position: AggregatePosition;
  private lastTotals: Totals | undefined;
  /** The community's final data time as last stored (see finalToStore). */
  private storedFinalMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly communityId: string,
    /** The tolerance's floor: `--stale-after`. */
    floorMs: number,
    /**
     * The epoch of a state created from nothing (Aggregate.epoch): the wall-clock ms of its
     * creation. Default 0, the epoch of state stored before epochs: a restored state takes the
     * stored one (`restore`, `continueFrom`).
     */
    epoch = 0,
  ) {
    this.position = { epoch, version: 0 };
    this.shards = new SnapshotShards(communityId);
    this.meters = new CommunityMeters(floorMs, (meterId, fromMs, toMs, power) => {
      this.ledger.add(meterId, fromMs, toMs, power);
      this.shards.changed(meterId);
    });
  }

  /**
   * Merges a stored shard: per meter the one with the newer reading wins, so shards left from
   * an earlier shard count, or a snapshot older than the aggregate, do no harm.
   */
  restore(snapshot: CommunitySnapshot, key: string = this.communityId): void {
    this.shards.restored(key, Object.keys(snapshot.meters).length);
    this.continueFrom({ epoch: snapshot.epoch ?? 0, version: snapshot.version });
    for (const [meterId, stored] of Object.entries(snapshot.meters)) {
      const meter = restoredMeter(stored, this.meters.floorMs);
      if (this.meters.restore(meterId, meter)) this.ledger.holdDaysUpTo(meter.newest()!.measuredAtMs);
    }
  }

  /** The days held whole once restored: load their stored records (`restoreDay`) before applying readings. */
  heldDays(): number[] {
    return this.meters.size ? this.ledger.heldDays() : [];
  }

  /** Loads a stored day (a day of `heldDays`): its energy, and how far each meter's energy is in it. */
  restoreDay(day: Day): void {
    this.ledger.restoreDay(day);
  }

  /** Continues after a stored aggregate unless this state is past it: one may be newer than the snapshot (written first). */
  continueFrom(stored: AggregatePosition): void {
    if (supersedes(stored, this.position)) this.position = { epoch: stored.epoch, version: stored.version };
  }

  /**
   * Applies a reading, and integrates the energy that became final by it. `pending`: it changed
   * the state (to store); `duplicate`: nothing; `late`: too late to be integrated, counted in its
   * minute (to store).
   */
  apply(meterId: string, reading: MeterState, redelivered = false): Offered {
    // Held days first: energy that becomes final by this reading may belong to its day.
    this.ledger.holdDaysUpTo(reading.measuredAtMs);
    const offered = this.meters.offer(meterId, reading, redelivered);
    // An averaged reading stands for the interval before its measuredAt: that bucket is the one it leaves unfinished.
    if (offered === "late") this.ledger.countLate(reading.averaged && reading.intervalMs ? reading.measuredAtMs - reading.intervalMs : reading.measuredAtMs);
    if (offered === "pending") this.shards.changed(meterId);
    return offered;
  }

  /** The community's final data time (CommunityMeters.finalThroughMs) when it moved on since last stored; then call `finalStored`. */
  finalToStore(): number | undefined {
    const final = this.meters.finalThroughMs();
    return final > this.storedFinalMs ? final : undefined;
  }

  finalStored(finalMs: number): void {
    this.storedFinalMs = Math.max(this.storedFinalMs, finalMs);
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
  nextAggregate(now: Date): Aggregate | undefined {
    const totals = this.meters.totals();
    if (this.lastTotals && sameTotals(this.lastTotals, totals)) return undefined;
    this.lastTotals = totals;
    this.position = { epoch: this.position.epoch, version: this.position.version + 1 };
    return {
      communityId: this.communityId,
      genW: totals.genW,
      conW: totals.conW,
      netW: netWatts(totals.genW, totals.conW),
      meters: totals.meters,
      stale: totals.stale,
      measuredAt: new Date(totals.measuredAtMs).toISOString(),
      aggregatedAt: now.toISOString(),
      version: this.position.version,
      epoch: this.position.epoch,
    };
  }

  /** What to store of the snapshot (see SnapshotShards.take), with the current epoch and version. If storing fails, hand `taken` to `putBack`. */
  takeDirtyShards(): TakenShards {
    return this.shards.take(this.meters.all, (meter) => meter.state(), this.position);
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

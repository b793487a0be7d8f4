import { type Aggregate, netWatts } from "../domain/aggregate.js";
import { type MeterState, type Totals, computeTotals, isNewer } from "../domain/totals.js";
import { hashString } from "../domain/hash.js";
import { MINUTES_PER_DAY, utcDayStart } from "../energy/day-record.js";
import { type Energy, MINUTE_MS, type MinuteEnergy, addMinutes, heldEnergy } from "../energy/meter-energy.js";

export type { MeterState } from "../domain/totals.js";

/** Serialised per-meter state of (a shard of) a community, kept in KV so a restarted aggregator stays exact. */
export interface CommunitySnapshot {
  readonly version: number;
  /** meterId → [genW, conW, measuredAtMs, seq] */
  readonly meters: Record<string, readonly [number, number, number, number]>;
}

/**
 * Meters per snapshot shard: a KV value must stay under NATS's 1 MB payload limit
 * (~40 bytes a meter), and a batch rewrites only the shards whose meters changed.
 */
export const METERS_PER_SHARD = 2_048;

/** 1, 2, 4, … shards: enough that none holds more than METERS_PER_SHARD meters. */
export function shardCountFor(meters: number): number {
  let count = 1;
  while (meters > count * METERS_PER_SHARD) count *= 2;
  return count;
}

/**
 * KV key of a shard: the community id alone while it has one shard, else `<id>.<index>`.
 * Ids never contain a `.`, so the community of a key is what stands before it.
 */
export function shardKey(communityId: string, index: number, count: number): string {
  return count === 1 ? communityId : `${communityId}.${index}`;
}

export function communityOfShardKey(key: string): string {
  return key.split(".")[0] ?? key;
}

/** A community of several shards stores a write's changed meters alone, under `<id>.d<n>`, while the deltas hold no more meters than the community. */
export const deltaKey = (communityId: string, n: number): string => `${communityId}.d${n}`;

/** The number of a delta key, or undefined for a shard key. */
export function deltaNumber(key: string): number | undefined {
  const match = /^[^.]+\.d(\d+)$/.exec(key);
  return match ? Number(match[1]) : undefined;
}

/** Deltas a community keeps before its next write rewrites every shard and deletes them (bounds what a restart reads). */
export const MAX_DELTAS = 64;

const DAY_MS = MINUTES_PER_DAY * MINUTE_MS;

/** Adds per-minute sums `from` into `into`. */
export function addMinuteSums(into: Map<number, Energy>, from: ReadonlyMap<number, Energy>): void {
  addMinutes(
    into,
    [...from].map(([minuteStartMs, energy]): MinuteEnergy => ({ minuteStartMs, ...energy })),
  );
}

/**
 * A UTC day of a community's energy to store (see day-record.ts): with `merge` false the
 * whole day as it is held in memory, to write as it is; with `merge` true only what was added
 * since it was last stored, for a day older than those held, to add to its stored record.
 */
export interface DirtyDay {
  readonly dayStartMs: number;
  readonly minutes: Map<number, Energy>;
  readonly merge: boolean;
}

function sameTotals(a: Totals, b: Totals): boolean {
  return a.genW === b.genW && a.conW === b.conW && a.meters === b.meters && a.stale === b.stale && a.measuredAtMs === b.measuredAtMs;
}

/**
 * Per-meter state of one community, with the version of its aggregate, and its energy per
 * minute (meter-energy.ts, held at most `holdLimitMs`). The energy of the day of the newest
 * reading and of the day before is held whole in memory (restored from KV with `restoreDay`);
 * energy that comes late for an older day is kept apart until stored, to be added to that
 * day's stored record. Pure: no I/O.
 */
export class CommunityState {
  private readonly meters = new Map<string, MeterState>();
  /** Meters changed since their shard was last taken for storing. */
  private dirtyMeters = new Set<string>();
  /** Shard and delta keys known to be (or, for a delta whose write failed, maybe) in KV. */
  private readonly storedKeys = new Set<string>();
  /**
   * The shard count of the layout last written whole by this state (0: none yet, as after a
   * restart or a failed store): a write in any other layout rewrites every shard.
   */
  private storedLayout = 0;
  /** Number of the next delta key. */
  private nextDelta = 0;
  /** Meters written in the deltas in KV (a meter counted once per delta). */
  private deltaMeters = 0;
  private version = 0;
  private lastTotals: Totals | undefined;
  /** Whole days held in memory: day start → minute start → energy. */
  private readonly days = new Map<number, Map<number, Energy>>();
  /** Held days changed since last taken. */
  private dirtyDays = new Set<number>();
  /** Energy added to days older than those held, since last taken. */
  private lateDays = new Map<number, Map<number, Energy>>();
  /** The oldest day held: the day before that of the newest reading. */
  private firstHeldDayMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly communityId: string,
    private readonly holdLimitMs: number,
  ) {}

  /**
   * Merges a stored shard: per meter the newer state wins, so shards left from an earlier
   * shard count, or a snapshot older than the aggregate, do no harm.
   */
  restore(snapshot: CommunitySnapshot, key: string = this.communityId): void {
    this.storedKeys.add(key);
    const delta = deltaNumber(key);
    if (delta !== undefined) {
      this.nextDelta = Math.max(this.nextDelta, delta + 1);
      this.deltaMeters += Object.keys(snapshot.meters).length;
    }
    this.version = Math.max(this.version, snapshot.version);
    for (const [meterId, [genW, conW, measuredAtMs, seq]] of Object.entries(snapshot.meters)) {
      const state = { genW, conW, measuredAtMs, seq };
      if (isNewer(state, this.meters.get(meterId))) this.meters.set(meterId, state);
      this.holdDaysUpTo(measuredAtMs);
    }
  }

  /** The days held whole once restored: load their stored records (`restoreDay`) before applying readings. */
  heldDays(): number[] {
    return this.meters.size ? [this.firstHeldDayMs, this.firstHeldDayMs + DAY_MS] : [];
  }

  /** Loads a stored day's per-minute sums (a day of `heldDays`). */
  restoreDay(dayStartMs: number, minutes: ReadonlyMap<number, Energy>): void {
    this.days.set(dayStartMs, new Map(minutes));
  }

  private holdDaysUpTo(measuredAtMs: number): void {
    this.firstHeldDayMs = Math.max(this.firstHeldDayMs, utcDayStart(measuredAtMs) - DAY_MS);
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
    this.dirtyMeters.add(meterId);
    this.holdDaysUpTo(reading.measuredAtMs);
    if (previous) this.addEnergy(heldEnergy(previous, reading, this.holdLimitMs));
    return true;
  }

  private addEnergy(slices: readonly MinuteEnergy[]): void {
    for (const slice of slices) {
      const dayStartMs = utcDayStart(slice.minuteStartMs);
      let minutes = this.days.get(dayStartMs);
      if (minutes || dayStartMs >= this.firstHeldDayMs) {
        // A held day not in memory yet is new: the days held were restored on loading.
        if (!minutes) this.days.set(dayStartMs, (minutes = new Map()));
        this.dirtyDays.add(dayStartMs);
      } else if (!(minutes = this.lateDays.get(dayStartMs))) {
        this.lateDays.set(dayStartMs, (minutes = new Map()));
      }
      addMinutes(minutes, [slice]);
    }
  }

  /**
   * The days whose energy changed since the last call (copies), and forgets held days older
   * than the day before the newest reading: once stored they are read from KV. If storing a
   * day fails, hand it to `putBackDays`.
   */
  takeDirtyDays(): DirtyDay[] {
    const taken: DirtyDay[] = [
      ...[...this.dirtyDays].map((dayStartMs) => ({ dayStartMs, minutes: new Map(this.days.get(dayStartMs)!), merge: false })),
      ...[...this.lateDays].map(([dayStartMs, minutes]) => ({ dayStartMs, minutes, merge: true })),
    ];
    this.dirtyDays = new Set();
    this.lateDays = new Map();
    for (const dayStartMs of this.days.keys()) if (dayStartMs < this.firstHeldDayMs) this.days.delete(dayStartMs);
    return taken;
  }

  /** After a failed store of days: they are dirty again, a whole day forgotten meanwhile held again. */
  putBackDays(days: Iterable<DirtyDay>): void {
    for (const { dayStartMs, minutes, merge } of days) {
      if (merge) {
        addMinuteSums(minutes, this.lateDays.get(dayStartMs) ?? new Map());
        this.lateDays.set(dayStartMs, minutes);
        continue;
      }
      if (!this.days.has(dayStartMs)) {
        // Energy that came since it was forgotten was kept apart as late: it belongs to the whole day.
        addMinuteSums(minutes, this.lateDays.get(dayStartMs) ?? new Map());
        this.lateDays.delete(dayStartMs);
        this.days.set(dayStartMs, minutes);
      }
      this.dirtyDays.add(dayStartMs);
    }
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

  /**
   * What to store of the meters changed since the last call, keyed for KV, each with the
   * current version: in a community of one shard, that shard; in a larger one, the changed
   * meters alone as a new delta key, while they fit one value and the deltas hold no more
   * meters than the community (so a batch writes what changed, not 2,048 meters a shard).
   * Otherwise the changed shards, or every shard when the community outgrew its shard layout
   * or its deltas are due to go; then `obsolete` names the keys to delete once the new ones
   * are stored (then call `stored`). A restart merges every key, the newest state of each
   * meter winning. If storing fails, hand `taken` to `putBack`.
   */
  takeDirtyShards(): { shards: Array<[key: string, snapshot: CommunitySnapshot]>; taken: Set<string>; obsolete: string[] } {
    const taken = this.dirtyMeters;
    this.dirtyMeters = new Set();
    const count = shardCountFor(this.meters.size);
    const layout = Array.from({ length: count }, (_, index) => shardKey(this.communityId, index, count));
    const deltas = [...this.storedKeys].filter((key) => deltaNumber(key) !== undefined);
    const oldLayout = [...this.storedKeys].filter((key) => !layout.includes(key) && deltaNumber(key) === undefined);
    // Shards of another layout hold meters that belong elsewhere now: a shard rewritten in
    // the new layout alone would drop those that have no other key yet.
    const layoutChanged = this.storedLayout !== count || oldLayout.length > 0;
    if (!taken.size && !layoutChanged) return { shards: [], taken, obsolete: [] };
    const fitsDelta = count > 1 && !layoutChanged && taken.size <= METERS_PER_SHARD && deltas.length < MAX_DELTAS && this.deltaMeters + taken.size <= this.meters.size;
    if (fitsDelta) {
      const key = deltaKey(this.communityId, this.nextDelta++);
      // Known before it is stored: a write that failed may still have landed, and must go with the others.
      this.storedKeys.add(key);
      this.deltaMeters += taken.size;
      return { shards: [[key, { version: this.version, meters: Object.fromEntries([...taken].map((meterId) => [meterId, this.storedForm(meterId)])) }]], taken, obsolete: [] };
    }
    // Deltas go only once every shard holds their meters' newest state.
    const rewriteAll = layoutChanged || deltas.length > 0;
    const shardOf = (meterId: string): number => (count === 1 ? 0 : hashString(meterId) % count);
    const wanted = rewriteAll ? new Set(layout.keys()) : new Set([...taken].map(shardOf));
    const shards = new Map<number, Record<string, readonly [number, number, number, number]>>();
    for (const meterId of this.meters.keys()) {
      const index = shardOf(meterId);
      if (!wanted.has(index)) continue;
      let shard = shards.get(index);
      if (!shard) shards.set(index, (shard = {}));
      shard[meterId] = this.storedForm(meterId);
    }
    if (rewriteAll) this.storedLayout = count;
    return {
      shards: [...shards].map(([index, meters]) => [layout[index]!, { version: this.version, meters }]),
      taken,
      obsolete: rewriteAll ? [...oldLayout, ...deltas] : [],
    };
  }

  private storedForm(meterId: string): readonly [number, number, number, number] {
    const m = this.meters.get(meterId)!;
    return [m.genW, m.conW, m.measuredAtMs, m.seq];
  }

  /** Records what a successful store wrote and deleted. */
  stored(written: Iterable<string>, deleted: Iterable<string>): void {
    for (const key of written) this.storedKeys.add(key);
    for (const key of deleted) {
      this.storedKeys.delete(key);
      if (deltaNumber(key) !== undefined) this.deltaMeters = 0;
    }
  }

  /** The last aggregate returned could not be stored: the next call of `nextAggregate` returns one again. */
  aggregateNotStored(): void {
    this.lastTotals = undefined;
  }

  /** After a failed store: the meters are dirty again and the next aggregate is emitted anew. */
  putBack(taken: Iterable<string>): void {
    for (const meterId of taken) this.dirtyMeters.add(meterId);
    // What was written of a whole layout is unknown: the next write rewrites every shard.
    this.storedLayout = 0;
    this.lastTotals = undefined;
  }
}

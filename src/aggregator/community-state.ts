import { type Aggregate, netWatts } from "../domain/aggregate.js";
import { type MeterState, type Totals, computeTotals, isNewer } from "../domain/totals.js";
import { hashString } from "../domain/hash.js";

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

function sameTotals(a: Totals, b: Totals): boolean {
  return a.genW === b.genW && a.conW === b.conW && a.meters === b.meters && a.stale === b.stale && a.measuredAtMs === b.measuredAtMs;
}

/** Per-meter state of one community, with the version of its aggregate. Pure: no I/O. */
export class CommunityState {
  private readonly meters = new Map<string, MeterState>();
  /** Meters changed since their shard was last taken for storing. */
  private dirtyMeters = new Set<string>();
  /** Shard keys known to be in KV: from restore and from successful stores. */
  private readonly storedKeys = new Set<string>();
  private version = 0;
  private lastTotals: Totals | undefined;

  constructor(readonly communityId: string) {}

  /**
   * Merges a stored shard: per meter the newer state wins, so shards left from an earlier
   * shard count, or a snapshot older than the aggregate, do no harm.
   */
  restore(snapshot: CommunitySnapshot, key: string = this.communityId): void {
    this.storedKeys.add(key);
    this.version = Math.max(this.version, snapshot.version);
    for (const [meterId, [genW, conW, measuredAtMs, seq]] of Object.entries(snapshot.meters)) {
      const state = { genW, conW, measuredAtMs, seq };
      if (isNewer(state, this.meters.get(meterId))) this.meters.set(meterId, state);
    }
  }

  /** Versions only grow: a stored aggregate may be newer than the snapshot (written first). */
  raiseVersionTo(version: number): void {
    this.version = Math.max(this.version, version);
  }

  /** Applies a reading; returns whether it changed the state (false for duplicates and older readings). */
  apply(meterId: string, reading: MeterState): boolean {
    if (!isNewer(reading, this.meters.get(meterId))) return false;
    this.meters.set(meterId, reading);
    this.dirtyMeters.add(meterId);
    return true;
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
   * The shards holding meters changed since the last call, keyed for KV, each with the
   * current version. When the community outgrew its shard layout, every shard is handed out
   * and `obsolete` names the keys of the old layout, to delete once the new ones are stored
   * (then call `stored`). If storing fails, hand `taken` to `putBack`.
   */
  takeDirtyShards(): { shards: Array<[key: string, snapshot: CommunitySnapshot]>; taken: Set<string>; obsolete: string[] } {
    const taken = this.dirtyMeters;
    this.dirtyMeters = new Set();
    const count = shardCountFor(this.meters.size);
    const layout = Array.from({ length: count }, (_, index) => shardKey(this.communityId, index, count));
    const obsolete = [...this.storedKeys].filter((key) => !layout.includes(key));
    if (!taken.size && !obsolete.length) return { shards: [], taken, obsolete };
    const shardOf = (meterId: string): number => (count === 1 ? 0 : hashString(meterId) % count);
    const wanted = obsolete.length ? new Set(layout.keys()) : new Set([...taken].map(shardOf));
    const shards = new Map<number, Record<string, readonly [number, number, number, number]>>();
    for (const [meterId, m] of this.meters) {
      const index = shardOf(meterId);
      if (!wanted.has(index)) continue;
      let shard = shards.get(index);
      if (!shard) shards.set(index, (shard = {}));
      shard[meterId] = [m.genW, m.conW, m.measuredAtMs, m.seq];
    }
    return {
      shards: [...shards].map(([index, meters]) => [layout[index]!, { version: this.version, meters }]),
      taken,
      obsolete,
    };
  }

  /** Records what a successful store wrote and deleted. */
  stored(written: Iterable<string>, deleted: Iterable<string>): void {
    for (const key of written) this.storedKeys.add(key);
    for (const key of deleted) this.storedKeys.delete(key);
  }

  /** After a failed store: the meters are dirty again and the next aggregate is emitted anew. */
  putBack(taken: Iterable<string>): void {
    for (const meterId of taken) this.dirtyMeters.add(meterId);
    this.lastTotals = undefined;
  }
}

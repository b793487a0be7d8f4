import type { AggregatePosition } from "../domain/aggregate.js";
import { hashString } from "../domain/hash.js";
import type { StoredMeter } from "../energy/stored-meter.js";

/** Serialised per-meter state of (a shard of) a community, kept in KV so a restarted aggregator stays exact. */
export interface CommunitySnapshot {
  readonly version: number;
  /** The state's epoch (Aggregate.epoch); a snapshot written before epochs has none: 0. */
  readonly epoch?: number;
  readonly meters: Record<string, StoredMeter>;
}

/**
 * Meters per snapshot shard: a KV value must stay under NATS's 1 MB payload limit (a meter's
 * integrator is ~150–400 bytes: its reading, its last gaps and the readings within its grace),
 * and a batch rewrites only the shards whose meters changed.
 */
export const METERS_PER_SHARD = 1_024;

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

/**
 * A community of one shard writes its changed meters as deltas too once it has more meters than
 * this: a meter's integrator is ~100–250 bytes, and rewriting 1,000 meters at every store for the
 * few that changed made the aggregator's KV writes its largest cost (`npm run bench:aggregator`).
 */
export const DELTAS_FROM_METERS = 64;

/** What to store of a community's snapshot: see SnapshotShards.take. */
export interface TakenShards {
  readonly shards: Array<[key: string, snapshot: CommunitySnapshot]>;
  /** The meters taken: hand them to `putBack` when storing fails. */
  readonly taken: Set<string>;
  /** Keys to delete once `shards` are stored (then call `stored`). */
  readonly obsolete: string[];
}

/** The layout of a community's snapshot in KV, and which of its meters changed since they were last taken for storing. Pure: no I/O. */
export class SnapshotShards {
  /** Meters changed since their shard was last taken for storing. */
  private dirtyMeters = new Set<string>();
  /** Shard and delta keys known to be (or, for a delta whose write failed, maybe) in KV. */
  private readonly storedKeys = new Set<string>();
  /**
   * The shard count of the layout last written whole (0: none yet, as after a restart or a
   * failed store): a write in any other layout rewrites every shard.
   */
  private storedLayout = 0;
  /** Number of the next delta key. */
  private nextDelta = 0;
  /** Meters written in the deltas in KV (a meter counted once per delta). */
  private deltaMeters = 0;

  constructor(private readonly communityId: string) {}

  /** A stored key read on restoring, holding `meters` meters. */
  restored(key: string, meters: number): void {
    this.storedKeys.add(key);
    const delta = deltaNumber(key);
    if (delta !== undefined) {
      this.nextDelta = Math.max(this.nextDelta, delta + 1);
      this.deltaMeters += meters;
    }
  }

  changed(meterId: string): void {
    this.dirtyMeters.add(meterId);
  }

  /**
   * What to store of the meters changed since the last call, keyed for KV, each with
   * `position` (the state's epoch and version): in a community of one shard and at most DELTAS_FROM_METERS meters, that shard; in
   * a larger one, the changed meters alone as a new delta key, while they fit one value and the
   * deltas hold no more meters than the community (so a batch writes what changed, not 1,024
   * meters a shard). Otherwise the
   * changed shards, or every shard when the community outgrew its shard layout or its deltas
   * are due to go; then `obsolete` names the keys to delete once the new ones are stored. A
   * restart merges every key, the newest state of each meter winning.
   */
  take<M>(meters: ReadonlyMap<string, M>, storedForm: (meter: M) => StoredMeter, position: AggregatePosition): TakenShards {
    const taken = this.dirtyMeters;
    this.dirtyMeters = new Set();
    const count = shardCountFor(meters.size);
    const layout = Array.from({ length: count }, (_, index) => shardKey(this.communityId, index, count));
    const deltas = [...this.storedKeys].filter((key) => deltaNumber(key) !== undefined);
    const oldLayout = [...this.storedKeys].filter((key) => !layout.includes(key) && deltaNumber(key) === undefined);
    // Shards of another layout hold meters that belong elsewhere now: a shard rewritten in
    // the new layout alone would drop those that have no other key yet.
    const layoutChanged = this.storedLayout !== count || oldLayout.length > 0;
    if (!taken.size && !layoutChanged) return { shards: [], taken, obsolete: [] };
    const fitsDelta = (count > 1 || meters.size > DELTAS_FROM_METERS) && !layoutChanged && taken.size <= METERS_PER_SHARD && deltas.length < MAX_DELTAS && this.deltaMeters + taken.size <= meters.size;
    if (fitsDelta) {
      const key = deltaKey(this.communityId, this.nextDelta++);
      // Known before it is stored: a write that failed may still have landed, and must go with the others.
      this.storedKeys.add(key);
      this.deltaMeters += taken.size;
      return { shards: [[key, { ...position, meters: Object.fromEntries([...taken].map((meterId) => [meterId, storedForm(meters.get(meterId)!)])) }]], taken, obsolete: [] };
    }
    // Deltas go only once every shard holds their meters' newest state.
    const rewriteAll = layoutChanged || deltas.length > 0;
    const shardOf = (meterId: string): number => (count === 1 ? 0 : hashString(meterId) % count);
    const wanted = rewriteAll ? new Set(layout.keys()) : new Set([...taken].map(shardOf));
    const shards = new Map<number, Record<string, StoredMeter>>();
    for (const [meterId, meter] of meters) {
      const index = shardOf(meterId);
      if (!wanted.has(index)) continue;
      let shard = shards.get(index);
      if (!shard) shards.set(index, (shard = {}));
      shard[meterId] = storedForm(meter);
    }
    if (rewriteAll) this.storedLayout = count;
    return {
      shards: [...shards].map(([index, shard]) => [layout[index]!, { ...position, meters: shard }]),
      taken,
      obsolete: rewriteAll ? [...oldLayout, ...deltas] : [],
    };
  }

  /** Records what a successful store wrote and deleted. */
  stored(written: Iterable<string>, deleted: Iterable<string>): void {
    for (const key of written) this.storedKeys.add(key);
    for (const key of deleted) {
      this.storedKeys.delete(key);
      if (deltaNumber(key) !== undefined) this.deltaMeters = 0;
    }
  }

  /** After a failed store: the meters are dirty again, and as what was written of a whole layout is unknown, the next write rewrites every shard. */
  putBack(taken: Iterable<string>): void {
    for (const meterId of taken) this.dirtyMeters.add(meterId);
    this.storedLayout = 0;
  }
}

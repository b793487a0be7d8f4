import { ecwatchAggregateFromJson } from "../domain/aggregate.js";
import { errorMessage } from "../errors.js";
import { LATEST_BUCKET } from "../wire/names.js";
import type { AggregatorPorts, Consumption } from "./ports.js";

/** Where a foreign value was found: NATS KV (`ec_latest`) or the Redis cache. */
export type ForeignStore = "kv" | "redis";

/** A foreign writer seen on a community's key, reported at most once per community per `reportIntervalMs`. */
export interface ForeignWrite {
  readonly communityId: string;
  readonly store: ForeignStore;
  /** Foreign values seen on the community's keys since the last report (this one included). */
  readonly seen: number;
  /** Whether this aggregator could put its own value back (false: it has no readings of the community). */
  readonly restored: boolean;
}

export interface ForeignWriteOptions {
  /**
   * Called when another writer's value is found on a community's key in KV or the cache (the
   * aggregator writes its own again): at most once per community per `reportIntervalMs`, with how many were seen.
   */
  readonly onForeignWrite?: (write: ForeignWrite) => void;
  readonly onError?: (err: unknown) => void;
  /** How often a community's foreign writes are reported at most. Default 60 s. */
  readonly reportIntervalMs?: number;
  /** How often the owned communities' cache keys are read back. Default 1 s. */
  readonly cacheCheckIntervalMs?: number;
}

/** What the guard counts into (the aggregator's stats). */
export interface ForeignCounters {
  foreignKv: number;
  foreignRedis: number;
}

/** The partitions this aggregator owns now, and their communities. */
export interface CommunityOwner {
  owns(communityId: string): boolean;
  /** The communities this aggregator has readings of, in the partitions it owns. */
  communities(): Iterable<string>;
  /** Has the community's partition write its aggregate again (a new version, to KV, the cache and the change feed); false when it has no readings of it. */
  rewrite(communityId: string): boolean;
}

/** Cache keys read per MGET. */
const CACHE_CHUNK = 1_000;

/**
 * Notices another writer of the aggregator's keys (issue 18) — e.g. the prototype's aggregator,
 * which writes `{"genW": …, "conW": …, "measuredAt": …}` to `ec_latest` and Redis for every
 * reading — and has the community's owner write its own value again. KV is watched (every put of
 * the bucket comes back, the aggregator's own too: those are ecwatch's and pass); the cache is
 * read back every `cacheCheckIntervalMs` for the communities this aggregator owns (a missing or
 * expired key is no foreign write). A value counts as foreign when it is not ecwatch's
 * (isEcwatchAggregate): an older value of ecwatch's own is left alone (the cache writer retries it).
 */
export class ForeignWriteGuard {
  private readonly lastReported = new Map<string, number>();
  private readonly unreported = new Map<string, number>();
  private watch: Consumption | undefined;
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(
    private readonly ports: Pick<AggregatorPorts, "latest" | "cache">,
    private readonly owner: CommunityOwner,
    private readonly counters: ForeignCounters,
    private readonly options: ForeignWriteOptions = {},
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts watching KV and reading back the cache. */
  async start(): Promise<void> {
    this.watch = await this.ports.latest.watch((communityId, json) => this.kvValue(communityId, json));
    this.timer = setInterval(() => void this.checkCache(), this.options.cacheCheckIntervalMs ?? 1_000);
  }

  /** A value put into `ec_latest` (by anyone). */
  kvValue(communityId: string, json: string): void {
    if (ecwatchAggregateFromJson(json, communityId)) return;
    // Another aggregator's community: that one repairs it.
    if (this.owner.owns(communityId)) this.count(communityId, "kv", this.owner.rewrite(communityId));
  }

  /** Reads the owned communities' cache keys back and has every foreign one written again. */
  async checkCache(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const ids = [...this.owner.communities()];
      for (let from = 0; from < ids.length; from += CACHE_CHUNK) {
        const chunk = ids.slice(from, from + CACHE_CHUNK);
        const values = await this.ports.cache.readLatest(chunk);
        values.forEach((json, i) => {
          const communityId = chunk[i]!;
          if (json !== null && !ecwatchAggregateFromJson(json, communityId)) this.count(communityId, "redis", this.owner.rewrite(communityId));
        });
      }
    } catch (err) {
      this.options.onError?.(new Error(`Could not read the cache back to look for foreign writes: ${errorMessage(err)}`));
    } finally {
      this.checking = false;
    }
  }

  /** Counts a foreign value, and reports it unless its community was reported within the interval. */
  count(communityId: string, store: ForeignStore, restored: boolean): void {
    if (store === "kv") this.counters.foreignKv += 1;
    else this.counters.foreignRedis += 1;
    const seen = (this.unreported.get(communityId) ?? 0) + 1;
    const now = this.now();
    if (now - (this.lastReported.get(communityId) ?? Number.NEGATIVE_INFINITY) < (this.options.reportIntervalMs ?? 60_000)) {
      this.unreported.set(communityId, seen);
      return;
    }
    this.lastReported.set(communityId, now);
    this.unreported.delete(communityId);
    this.options.onForeignWrite?.({ communityId, store, seen, restored });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.watch?.stop();
  }
}

/** The log line of a foreign write (`aggregate`, `up`). */
export function foreignWriteMessage({ communityId, store, seen, restored }: ForeignWrite): string {
  const where = store === "kv" ? `KV ${LATEST_BUCKET}` : "Redis";
  const times = seen > 1 ? ` (${seen} times since the last report)` : "";
  const outcome = restored ? "the aggregator wrote its own value back" : "the aggregator has no readings of it, so it cannot write its own value back";
  return `another writer put a value that is not ecwatch's on community ${communityId}'s key in ${where}${times}; ${outcome}. Is the prototype's aggregator running beside ecwatch? Run \`ecwatch doctor\`.`;
}

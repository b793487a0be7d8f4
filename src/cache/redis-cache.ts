import { Redis } from "ioredis";
import { EcwatchError } from "../errors.js";
import { redactUrl } from "../url.js";

/** Redis key of a community's latest aggregate (the prototype's). */
export const latestCacheKey = (communityId: string): string => `ec:${communityId}:latest`;
const LATEST_KEY_PATTERN = "ec:*:latest";
/** Seconds a cached aggregate lives: a silent community falls back to KV. */
export const LATEST_TTL_SECONDS = 60;

/** The latest-value cache, in Redis. */
export class RedisCache {
  readonly redis: Redis;

  private constructor(redis: Redis) {
    this.redis = redis;
  }

  /** Connects and checks the server answers; one clear sentence when it does not. */
  static async connect(url: string): Promise<RedisCache> {
    let connected = false;
    let lastError: Error | undefined;
    const redis = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 2,
      enableAutoPipelining: true,
      connectTimeout: 5_000,
      // While Redis is away, fail at once instead of queueing: the aggregator retries by
      // itself and the API falls back to KV, so neither should wait on a cache.
      enableOfflineQueue: false,
      commandTimeout: 1_000,
      // Fail fast on the first connection; once connected, reconnect by itself after an outage.
      retryStrategy: (attempt) => (connected ? Math.min(attempt * 100, 2_000) : null),
    });
    redis.on("error", (err: Error) => {
      // Failed commands reject and are handled by their callers; keep the cause for the message.
      lastError = err;
    });
    try {
      await redis.connect();
      await redis.ping();
      connected = true;
    } catch (err) {
      redis.disconnect();
      const reason = (lastError ?? (err as Error)).message;
      throw new EcwatchError("REDIS_UNREACHABLE", `Cannot connect to Redis at ${redactUrl(url)} (${reason}).`, {
        hint: "Start the stack with `ecwatch up`, or pass --redis <url> / set REDIS_URL.",
        cause: lastError ?? err,
      });
    }
    return new RedisCache(redis);
  }

  /** Writes several aggregates in one round trip, each with the TTL. */
  async putLatest(entries: ReadonlyArray<{ communityId: string; json: string }>): Promise<void> {
    if (!entries.length) return;
    const pipeline = this.redis.pipeline();
    for (const { communityId, json } of entries) pipeline.set(latestCacheKey(communityId), json, "EX", LATEST_TTL_SECONDS);
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  /**
   * Writes an aggregate read from KV back into the cache, unless the cache already holds
   * one: a newer value written by the aggregator meanwhile must not be overwritten.
   */
  async refillLatest(communityId: string, json: string): Promise<void> {
    await this.redis.set(latestCacheKey(communityId), json, "EX", LATEST_TTL_SECONDS, "NX");
  }

  async getLatest(communityId: string): Promise<string | null> {
    return this.redis.get(latestCacheKey(communityId));
  }

  /** Deletes every cached aggregate. */
  async wipe(): Promise<number> {
    let deleted = 0;
    let cursor = "0";
    do {
      const [next, keys] = await this.redis.scan(cursor, "MATCH", LATEST_KEY_PATTERN, "COUNT", 500);
      cursor = next;
      if (keys.length) deleted += await this.redis.del(...keys);
    } while (cursor !== "0");
    return deleted;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

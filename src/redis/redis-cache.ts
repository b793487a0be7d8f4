import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { type ConnectFailure, connectFailure } from "../connect-failure.js";
import { EcwatchError, UsageError } from "../errors.js";
import { redactUrl } from "../url.js";
import { redisCall } from "./redis-errors.js";

/** Redis key of a community's latest aggregate (the prototype's). */
export const latestCacheKey = (communityId: string): string => `ec:${communityId}:latest`;
const LATEST_KEY_PATTERN = "ec:*:latest";
/** Seconds a cached aggregate lives: a silent community falls back to KV. */
export const LATEST_TTL_SECONDS = 60;

/** SET with the TTL when the key is missing or holds exactly ARGV[2]. */
const REPLACE_SCRIPT = `local current = redis.call("GET", KEYS[1])
if current == false or current == ARGV[2] then
  redis.call("SET", KEYS[1], ARGV[1], "EX", ARGV[3])
  return 1
end
return 0`;

/** TLS besides `rediss://` (issue 10). */
export interface RedisSecurity {
  /** PEM file of the CA(s) that signed the server's certificate; turns TLS on. Env REDIS_TLS_CA. */
  readonly tlsCaFile?: string;
}

function readCa(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(`Cannot read the Redis CA file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`, "Check --redis-tls-ca / REDIS_TLS_CA.");
  }
}

/** The fix for each way a connection fails. */
const REDIS_HINTS: Record<ConnectFailure, { code: string; hint: string }> = {
  auth: { code: "REDIS_AUTH_FAILED", hint: "Check the password (redis://:pass@host) or ACL user and password (redis://user:pass@host) in the URL." },
  tls: { code: "REDIS_TLS_FAILED", hint: "Pass the CA of the server's certificate with --redis-tls-ca <file> / REDIS_TLS_CA, and use the name or address the certificate is for." },
  unreachable: { code: "REDIS_UNREACHABLE", hint: "Start the stack with `ecwatch up`, or pass --redis <url> / set REDIS_URL (rediss:// for a server that speaks TLS)." },
};

/** The latest-value cache, in Redis. */
export class RedisCache {
  readonly redis: Redis;

  private constructor(redis: Redis) {
    this.redis = redis;
  }

  /**
   * Connects and checks the server answers; one clear sentence when it does not. The URL
   * carries the password and ACL user (`redis://user:pass@host:port`) and `rediss://` turns on
   * TLS; `security` adds the CA of the server's certificate (issue 10).
   */
  static async connect(url: string, security: RedisSecurity = {}): Promise<RedisCache> {
    let connected = false;
    let lastError: Error | undefined;
    const ca = security.tlsCaFile ? readCa(security.tlsCaFile) : undefined;
    const redis = new Redis(url, {
      ...(ca && { tls: { ca } }),
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
      const cause = lastError ?? (err as Error);
      const { code, hint } = REDIS_HINTS[connectFailure(cause)];
      throw new EcwatchError(code, `Cannot connect to Redis at ${redactUrl(url)} (${cause.message}).`, { hint, cause });
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
   * one: a newer value written by the aggregator meanwhile must not be overwritten. Given
   * `replacing` (another writer's value the reader found there), it also replaces exactly that
   * value, atomically (issue 18).
   */
  async refillLatest(communityId: string, json: string, replacing?: string): Promise<void> {
    const key = latestCacheKey(communityId);
    if (replacing === undefined) await redisCall(this.redis.set(key, json, "EX", LATEST_TTL_SECONDS, "NX"));
    else await redisCall(this.redis.eval(REPLACE_SCRIPT, 1, key, json, replacing, LATEST_TTL_SECONDS));
  }

  /** The cached aggregates' JSON, null where missing, in the order of `communityIds` (one MGET); a failure is a RedisError. */
  async readLatest(communityIds: readonly string[]): Promise<Array<string | null>> {
    if (!communityIds.length) return [];
    return redisCall(this.redis.mget(communityIds.map(latestCacheKey)));
  }

  /** The cached aggregate's JSON, null on a miss; a failure is a RedisError. */
  async getLatest(communityId: string): Promise<string | null> {
    return redisCall(this.redis.get(latestCacheKey(communityId)));
  }

  /** Resolves when Redis answers a PING; a failure is a RedisError. */
  async ping(): Promise<void> {
    await redisCall(this.redis.ping());
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

  /** The server's version, from INFO (`ecwatch doctor`). */
  async serverVersion(): Promise<string | undefined> {
    return infoField(await this.redis.info("server"), "redis_version");
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** The value of one field of Redis's INFO text, e.g. `redis_version`. */
export function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, "m").exec(info)?.[1]?.trim();
}

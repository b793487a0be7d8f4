import { Aggregator, type AggregatorOptions } from "../aggregator/aggregator.js";
import { LatestStore } from "../api/latest-store.js";
import { createApi, listen } from "../api/server.js";
import { SseHub } from "../api/sse-hub.js";
import { DEFAULT_RETENTION, ensureTopology, openBus, type RetentionOptions } from "../bus/nats-bus.js";
import { RedisCache } from "../cache/redis-cache.js";
import { EcwatchError } from "../errors.js";

/** A running aggregator with its own connections. */
export interface AggregationService {
  readonly aggregator: Aggregator;
  /** What ensureTopology changed on start (created or updated resources). */
  readonly changes: readonly string[];
  stop(): Promise<void>;
}

/** Connects to NATS and Redis, ensures the stream, consumer and buckets, and starts consuming. */
export async function startAggregation(
  natsUrl: string,
  redisUrl: string,
  options: AggregatorOptions & { retention?: RetentionOptions } = {},
): Promise<AggregationService> {
  const bus = await openBus(natsUrl, "ecwatch-aggregate");
  let cache: RedisCache | undefined;
  try {
    cache = await RedisCache.connect(redisUrl);
    const changes = await ensureTopology(bus.jsm, options.retention ?? DEFAULT_RETENTION);
    const aggregator = await Aggregator.start(bus, cache, options);
    return {
      aggregator,
      changes,
      stop: async () => {
        await aggregator.stop();
        await Promise.all([bus.close(), cache!.close()]);
      },
    };
  } catch (err) {
    await Promise.all([bus.close().catch(() => undefined), cache?.close()]);
    throw err;
  }
}

/** A running API with its own connections. */
export interface ApiService {
  readonly url: string;
  readonly hub: SseHub;
  stop(): Promise<void>;
}

export async function startApi(natsUrl: string, redisUrl: string, host: string, port: number): Promise<ApiService> {
  const bus = await openBus(natsUrl, "ecwatch-serve");
  let cache: RedisCache | undefined;
  try {
    cache = await RedisCache.connect(redisUrl);
    await ensureTopology(bus.jsm);
    const redis = cache.redis;
    const hub = new SseHub(bus.nc);
    const server = createApi({
      store: new LatestStore(cache, bus.latest),
      hub,
      js: bus.js,
      health: async () => ({
        nats: !bus.nc.isClosed() && (await bus.nc.flush().then(() => true, () => false)),
        redis: await redis.ping().then(() => true, () => false),
      }),
    });
    const api = await listen(server, host, port).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EADDRINUSE" && err.code !== "EACCES") throw err;
      throw new EcwatchError("PORT_IN_USE", `Cannot listen on ${host}:${port} (${err.code}).`, {
        hint: "Pass another --port, or stop what uses it.",
        cause: err,
      });
    });
    return {
      url: api.url,
      hub,
      stop: async () => {
        await api.close();
        await Promise.all([bus.close(), cache!.close()]);
      },
    };
  } catch (err) {
    await Promise.all([bus.close().catch(() => undefined), cache?.close()]);
    throw err;
  }
}

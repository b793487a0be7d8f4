import { Aggregator, type AggregatorOptions } from "../aggregator/aggregator.js";
import { LatestStore } from "../api/latest-store.js";
import { createApi, listen } from "../api/server.js";
import { SseHub } from "../api/sse-hub.js";
import { type Bus, clusterReplicas, DEFAULT_RETENTION, ensureTopology, openBus, type RetentionOptions } from "../bus/nats-bus.js";
import { RedisCache } from "../cache/redis-cache.js";
import { EcwatchError } from "../errors.js";

/** A service's own NATS and Redis connections, with the stream, consumer and buckets in place. */
interface Connections {
  readonly bus: Bus;
  readonly cache: RedisCache;
  /** What ensureTopology changed (created or updated resources). */
  readonly changes: readonly string[];
  close(): Promise<void>;
}

/** Opens both connections and runs `start` on them; closes them again if anything fails. */
async function withConnections<T>(
  natsUrl: string,
  redisUrl: string,
  name: string,
  /** Given by the aggregator, which owns the stream's settings (see ensureTopology). */
  retention: RetentionOptions | undefined,
  start: (connections: Connections) => Promise<T>,
): Promise<T> {
  const bus = await openBus(natsUrl, name);
  let cache: RedisCache | undefined;
  try {
    cache = await RedisCache.connect(redisUrl);
    const opened = cache;
    const changes = await ensureTopology(bus.jsm, retention, clusterReplicas(bus.nc));
    return await start({ bus, cache: opened, changes, close: async () => void (await Promise.all([bus.close(), opened.close()])) });
  } catch (err) {
    await Promise.all([bus.close().catch(() => undefined), cache?.close()]);
    throw err;
  }
}

/** A running aggregator with its own connections. */
export interface AggregationService {
  readonly aggregator: Aggregator;
  /** What ensureTopology changed on start (created or updated resources). */
  readonly changes: readonly string[];
  stop(): Promise<void>;
}

/** Connects to NATS and Redis, ensures the stream, consumer and buckets, and starts consuming. */
export function startAggregation(
  natsUrl: string,
  redisUrl: string,
  options: AggregatorOptions & { retention?: RetentionOptions } = {},
): Promise<AggregationService> {
  return withConnections(natsUrl, redisUrl, "ecwatch-aggregate", options.retention ?? DEFAULT_RETENTION, async (connections) => {
    const aggregator = await Aggregator.start(connections.bus, connections.cache, options);
    let stopping: Promise<void> | undefined;
    return {
      aggregator,
      changes: connections.changes,
      // Once, however often it is called: a test's cleanup may stop what it already stopped.
      stop: () =>
        (stopping ??= (async () => {
          await aggregator.stop();
          await connections.close();
        })()),
    };
  });
}

/** A running API with its own connections. */
export interface ApiService {
  readonly url: string;
  readonly hub: SseHub;
  stop(): Promise<void>;
}

export function startApi(natsUrl: string, redisUrl: string, host: string, port: number): Promise<ApiService> {
  return withConnections(natsUrl, redisUrl, "ecwatch-serve", undefined, async ({ bus, cache, close }) => {
    const hub = new SseHub(bus.nc);
    const server = createApi({
      store: new LatestStore(cache, bus.latest),
      hub,
      js: bus.js,
      health: async () => ({
        nats: !bus.nc.isClosed() && (await bus.nc.flush().then(() => true, () => false)),
        redis: await cache.redis.ping().then(() => true, () => false),
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
        await close();
      },
    };
  });
}

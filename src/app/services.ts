import type { Registry } from "prom-client";
import { Aggregator, type AggregatorOptions } from "../aggregator/aggregator.js";
import type { AggregatorPorts } from "../aggregator/ports.js";
import { natsAggregatorStores } from "../nats/aggregator-stores.js";
import { emptyStats } from "../aggregator/options.js";
import type { ApiAccess } from "../api/access.js";
import { DEFAULT_RATE_LIMIT, perWorker } from "../api/rate-limit.js";
import { LatestStore } from "../api/latest-store.js";
import { HistoryStore } from "../energy/history-store.js";
import { pingReadiness } from "../api/readiness.js";
import { createApi, listen } from "../api/server.js";
import { SseHub } from "../api/sse-hub.js";
import { NatsChangeFeed } from "../nats/change-feed.js";
import { KvDayRecords } from "../nats/kv-day-records.js";
import { KvLatestRecords } from "../nats/kv-latest.js";
import { KvMeterSnapshots } from "../nats/kv-meter-snapshots.js";
import { NatsPing } from "../nats/nats-ping.js";
import { JetStreamReadingPublisher } from "../nats/reading-publisher.js";
import { aggregatorLag } from "../nats/inspect.js";
import { DEFAULT_RETENTION, type RetentionOptions } from "../nats/topology.js";
import type { ConnectionSecurity } from "../config/connection-settings.js";
import { EcwatchError } from "../errors.js";
import { aggregatorMetrics } from "../prometheus/aggregator-metrics.js";
import { apiMetrics } from "../prometheus/api-metrics.js";
import { clusterMetricsSource } from "../prometheus/cluster-metrics.js";
import { exposition } from "../prometheus/metrics-server.js";
import type { ReadingSource } from "../sim/sources.js";
import { Simulator, type SimulatorOptions } from "../sim/simulator.js";
import { foreignConsumerNotice, isPrototypeAggregator } from "../wire/foreign-consumers.js";
import { openJetStreamTransport, withConnections } from "./adapters.js";

/** A running aggregator with its own connections. */
export interface AggregationService {
  readonly aggregator: Aggregator;
  /** What ensureTopology changed on start (created or updated resources). */
  readonly changes: readonly string[];
  /** One warning per foreign consumer of the reading streams found on start, with its fix (issue 18; the wording `doctor` uses). */
  readonly warnings: readonly string[];
  /** Its own Prometheus metrics: served by `aggregate --metrics-port` (serveMetrics), and by `up` on its API's /metrics (ApiOptions.inProcessMetrics). */
  readonly metrics: Registry;
  stop(): Promise<void>;
}

/** Connects to NATS and Redis, ensures the stream, consumer and buckets, and starts consuming. */
export function startAggregation(
  natsUrl: string,
  redisUrl: string,
  options: AggregatorOptions & { retention?: RetentionOptions; security?: ConnectionSecurity } = {},
): Promise<AggregationService> {
  return withConnections(natsUrl, redisUrl, "ecwatch-aggregate", options.retention ?? DEFAULT_RETENTION, options.security, async (connections) => {
    let aggregator: Aggregator | undefined;
    const metrics = aggregatorMetrics({
      stats: () => aggregator?.stats ?? emptyStats(),
      lag: async () => (await aggregatorLag(connections.bus.jsm)).map(({ partition, lag }) => ({ partition: partition === undefined ? "strays" : String(partition), lag })),
    });
    const onBatch = (size: number): void => {
      metrics.observeBatch(size);
      options.onBatch?.(size);
    };
    const ports: AggregatorPorts = { ...natsAggregatorStores(connections.bus), cache: connections.cache };
    const started = await Aggregator.start(ports, { ...options, onBatch });
    aggregator = started;
    let stopping: Promise<void> | undefined;
    return {
      aggregator: started,
      changes: connections.changes,
      warnings: connections.foreignConsumers.map((consumer) => {
        // ensureTopology removed the prototype's consumer on adoption; any other is left as it is.
        const { detail, fix } = foreignConsumerNotice(consumer, isPrototypeAggregator(consumer));
        return `${detail}. ${fix}`;
      }),
      metrics: metrics.registry,
      // Once, however often it is called: a test's cleanup may stop what it already stopped.
      stop: () =>
        (stopping ??= (async () => {
          await started.stop();
          await connections.close();
        })()),
    };
  });
}

/** A running simulator publishing to JetStream on a connection of its own. */
export interface SimulationService {
  readonly simulator: Simulator;
  stop(): Promise<void>;
}

/** Starts publishing `source`'s readings (the stream is the aggregator's to ensure); `stop` stops it, then closes its connection. */
export async function startSimulation(natsUrl: string, security: ConnectionSecurity | undefined, source: ReadingSource, options: SimulatorOptions): Promise<SimulationService> {
  const transport = await openJetStreamTransport(natsUrl, security, { ensure: false });
  const simulator = new Simulator(transport.sink, source, options);
  void simulator.start();
  return {
    simulator,
    stop: async () => {
      try {
        await simulator.stop();
      } finally {
        await transport.close();
      }
    },
  };
}

/** A running API with its own connections. */
export interface ApiService {
  readonly url: string;
  readonly hub: SseHub;
  stop(): Promise<void>;
}

export interface ApiOptions {
  /** Credentials and TLS of the NATS and Redis connections besides the URLs' own (issue 10). */
  readonly security?: ConnectionSecurity;
  /** Token on writes, rate limit and CORS (issue 10); default: writes open, 100/s per client, CORS off. */
  readonly access?: ApiAccess;
  /** Called with each error the API answered with a 5xx (for the log). */
  readonly onServerError?: (err: unknown, status: number) => void;
  /** Called as each response ends, after the metrics counted it (for a debug log). */
  readonly onResponse?: (method: string, route: string, status: number) => void;
  /** The metrics of other services in this process, served on the API's /metrics too (`up`: its aggregator's, issue 18); default none. */
  readonly inProcessMetrics?: readonly Registry[];
  /** How often SSE clients get a keep-alive comment; default 15 s. */
  readonly sseHeartbeatMs?: number;
  /** The aggregator's `--stale-after`, for GET /communities/{id}/meters; default 30 s. */
  readonly staleAfterMs?: number;
  /** The archive's directory (`ecwatch archive --dir`), for a meter's history (issue 23); default none: that history is a 503. Each process opens its own DuckDB over it. */
  readonly archiveDir?: string;
  /** In a worker of `serve --workers` (issue 21): the pool's size. The worker takes its share of the rate limit, and /metrics serves the whole pool's. Default: a lone process. */
  readonly poolWorkers?: number;
}

/** The access of one process: a pool worker's share of the rate limit (perWorker). */
function accessOfProcess(access: ApiAccess | undefined, poolWorkers: number | undefined): ApiAccess | undefined {
  if (poolWorkers === undefined) return access;
  const limit = access?.rateLimit === undefined ? DEFAULT_RATE_LIMIT : access.rateLimit;
  return { ...access, rateLimit: limit && perWorker(limit, poolWorkers) };
}

export function startApi(natsUrl: string, redisUrl: string, host: string, port: number, options: ApiOptions = {}): Promise<ApiService> {
  return withConnections(natsUrl, redisUrl, "ecwatch-serve", undefined, options.security, async ({ bus, cache, close }) => {
    const hub = new SseHub(new NatsChangeFeed(bus.nc));
    const metrics = apiMetrics({ sseClients: () => hub.clientCount() });
    // DuckDB is loaded only by an API given an archive: `aggregate`, `sim` and others do without its native module.
    const archive = options.archiveDir === undefined ? undefined : await (await import("../duckdb/archive-meter-readings.js")).ArchiveMeterReadings.open(options.archiveDir);
    const exposed = exposition([metrics.registry, ...(options.inProcessMetrics ?? [])]);
    const server = createApi({
      latest: new LatestStore(cache, new KvLatestRecords(bus.latest, bus.jsm)),
      hub,
      readings: new JetStreamReadingPublisher(bus.js),
      access: accessOfProcess(options.access, options.poolWorkers),
      sseHeartbeatMs: options.sseHeartbeatMs,
      history: new HistoryStore(new KvDayRecords(bus.energy)),
      meters: new KvMeterSnapshots(bus.state, bus.jsm),
      staleAfterMs: options.staleAfterMs,
      archive,
      readiness: pingReadiness({ nats: new NatsPing(bus.nc), redis: cache }),
      metrics: options.poolWorkers === undefined ? exposed : clusterMetricsSource(exposed),
      observer: {
        ...metrics.observer,
        onResponse: (method, route, status) => {
          metrics.observer.onResponse(method, route, status);
          options.onResponse?.(method, route, status);
        },
        onServerError: options.onServerError,
      },
    });
    const api = await listen(server, host, port).catch((err: NodeJS.ErrnoException) => {
      archive?.close();
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
        archive?.close();
        await close();
      },
    };
  });
}

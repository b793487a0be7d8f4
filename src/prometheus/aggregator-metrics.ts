import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { DeadLetterKind } from "../wire/names.js";
import { counterOf } from "./metrics-server.js";

/** The aggregator's running totals these metrics read (its AggregatorStats has this shape). */
export interface AggregatorCounters {
  readonly readings: number;
  readonly ignored: number;
  readonly late: number;
  readonly deadLetters: number;
  /** Of deadLetters, those whose subject is not a reading subject. */
  readonly notReadingSubjects: number;
  readonly storeErrors: number;
  readonly cacheErrors: number;
  readonly forwarded: number;
  /** Another writer's values found on its communities' keys in NATS KV and in Redis (issue 18). */
  readonly foreignKv: number;
  readonly foreignRedis: number;
  /** Partitions owned now. */
  readonly partitions: number;
}

/** Messages one of the aggregator's consumers has yet to process (pending delivery + delivered, not acknowledged). */
export interface ConsumerLag {
  /** The partition the consumer reads (its label), or `strays` for the consumer of unpartitioned readings. */
  readonly partition: string;
  readonly lag: number;
}

export interface AggregatorMetricsOptions {
  /** The aggregator's running totals, read at scrape time. */
  readonly stats: () => AggregatorCounters;
  /** The lag of every aggregator consumer, asked of JetStream at scrape time. */
  readonly lag: () => Promise<readonly ConsumerLag[]>;
}

export interface AggregatorMetrics {
  /** The aggregator's own metrics (served with the process's by exposition()). */
  readonly registry: Registry;
  /** The hook of AggregatorOptions.onBatch. */
  readonly observeBatch: (size: number) => void;
}

/** Batch sizes: from the single reading of a quiet stack to the thousands of a backlog drain. */
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000];

/**
 * The aggregator's metrics. Counters mirror AggregatorCounters; the lag is the consumers' view in
 * JetStream, the same for every aggregator of a stack (it includes partitions others own, so
 * that a partition nobody works on shows too): aggregate it with max(), not sum().
 */
export function aggregatorMetrics(options: AggregatorMetricsOptions): AggregatorMetrics {
  const registry = new Registry();
  const { stats } = options;
  counterOf(registry, "ecwatch_aggregator_readings_total", "Readings received from the partitions (a redelivered reading counts again)", () => stats().readings);
  counterOf(registry, "ecwatch_aggregator_readings_ignored_total", "Readings that changed nothing: duplicates", () => stats().ignored);
  counterOf(registry, "ecwatch_aggregator_readings_late_total", "Readings too late to be integrated in their place (beyond their meter's grace): counted in their history bucket, which is then not final", () => stats().late);
  new Counter({
    name: "ecwatch_aggregator_dead_letters_total",
    help: "Messages moved to the dead-letter stream EC_DLQ, by kind: subject (not a reading subject, e.g. an MQTT topic under ec/ that is no reading topic), reading (on a reading subject, but not a valid reading)",
    labelNames: ["kind"],
    registers: [registry],
    collect() {
      const { deadLetters, notReadingSubjects } = stats();
      this.reset();
      this.inc({ kind: "subject" satisfies DeadLetterKind }, notReadingSubjects);
      this.inc({ kind: "reading" satisfies DeadLetterKind }, deadLetters - notReadingSubjects);
    },
  });
  counterOf(registry, "ecwatch_aggregator_store_errors_total", "Failed writes of a community to NATS KV (retried)", () => stats().storeErrors);
  counterOf(registry, "ecwatch_aggregator_cache_errors_total", "Failed writes to the Redis cache (retried)", () => stats().cacheErrors);
  counterOf(registry, "ecwatch_aggregator_forwarded_total", "Readings stored unpartitioned and moved into their partition", () => stats().forwarded);
  new Counter({
    name: "ecwatch_aggregator_foreign_writes_total",
    help: "Another writer's values (e.g. the prototype's aggregator) found on the keys of communities this aggregator owns, which it then wrote again; kv counts each put seen, redis each read-back that found one",
    labelNames: ["store"],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ store: "kv" }, stats().foreignKv);
      this.inc({ store: "redis" }, stats().foreignRedis);
    },
  });
  new Gauge({
    name: "ecwatch_aggregator_partitions_owned",
    help: "Partitions this aggregator works on",
    registers: [registry],
    collect() {
      this.set(stats().partitions);
    },
  });
  const batches = new Histogram({ name: "ecwatch_aggregator_batch_size", help: "Messages per batch, aggregated and announced together", buckets: BATCH_BUCKETS, registers: [registry] });

  // One question to JetStream per scrape, shared by both lag gauges (the registry collects them concurrently).
  let asking: Promise<readonly ConsumerLag[] | undefined> | undefined;
  const currentLag = (): Promise<readonly ConsumerLag[] | undefined> =>
    (asking ??= options
      .lag()
      .catch(() => undefined)
      .finally(() => {
        asking = undefined;
      }));
  new Gauge({
    name: "ecwatch_aggregator_partition_lag_messages",
    help: "Messages a partition's consumer has yet to process (pending + unacknowledged); absent when JetStream could not be asked",
    labelNames: ["partition"],
    registers: [registry],
    async collect() {
      const lags = await currentLag();
      this.reset();
      for (const { partition, lag } of lags ?? []) this.set({ partition }, lag);
    },
  });
  new Gauge({
    name: "ecwatch_aggregator_lag_messages",
    help: "Messages all aggregator consumers have yet to process; NaN when JetStream could not be asked",
    registers: [registry],
    async collect() {
      const lags = await currentLag();
      this.set(lags ? lags.reduce((sum, { lag }) => sum + lag, 0) : Number.NaN);
    },
  });
  return { registry, observeBatch: (size) => batches.observe(size) };
}

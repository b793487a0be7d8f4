import type { Aggregate } from "../domain/aggregate.js";
import type { ForeignWriteOptions } from "./foreign-writes.js";

/** Options of the aggregator service; those of noticing another writer of its keys are ForeignWriteOptions. */
export interface AggregatorOptions extends ForeignWriteOptions {
  /** The floor of a meter's tolerance for jitter (energy/validity.ts): a meter leaves the totals once its cadence plus the tolerance has passed without a reading. Default 30 s. */
  readonly staleAfterMs?: number;
  /** Called with every new aggregate after it is stored. */
  readonly onAggregate?: (aggregate: Aggregate) => void;
  /** Called when a community could not be stored (it is retried), the cache could not be written, or the lease was lost. */
  readonly onError?: (err: unknown) => void;
  /** Messages the client buffers ahead of processing. Default 1,000. */
  readonly maxMessages?: number;
  /** How long the aggregator's leases last without renewal (see Lease). Default 15 s. */
  readonly leaseTtlMs?: number;
  /** Called with the size of every batch once its aggregates are announced (metrics). */
  readonly onBatch?: (size: number) => void;
  /**
   * How often a partition stores its communities' snapshots and days of energy, and then
   * acknowledges what they hold. Default 100 ms: per batch, at ~60 batches/s, writing each
   * changed community's day record (4 × 1,440 numbers) was 5–12 % of the aggregator's CPU at
   * 10,000 readings/s; the aggregates still go out per batch (bench/README.md row 11:
   * aggregator 60 → 49 % CPU, end-to-end p50 27 → 18 ms).
   */
  readonly storeIntervalMs?: number;
  /** How long a reading that could not be stored waits before it is delivered again, and a failed cache write before it is retried. Default 1 s. */
  readonly retryDelayMs?: number;
}

/** Counters of the aggregator, for status lines and `doctor`. */
export interface AggregatorStats {
  readings: number;
  /** Duplicates: they change nothing. */
  ignored: number;
  /** Readings too late to be integrated in their place (beyond their meter's grace): counted in their minute's `late`, not in its energy. */
  late: number;
  /** Messages stored in the dead letters (EC_DLQ). */
  deadLetters: number;
  /** Of those, the messages whose subject is not a reading subject (e.g. an MQTT topic under `ec/` with a level too many). */
  notReadingSubjects: number;
  batches: number;
  largestBatch: number;
  storeErrors: number;
  cacheErrors: number;
  /** Readings stored as published (not partitioned by nats-server) that were moved into their partition. */
  forwarded: number;
  /** Partitions this aggregator owns now. */
  partitions: number;
  /** Another writer's values found on the keys of the communities it owns, in `ec_latest` (each put seen) and in the cache (each read-back that found one). */
  foreignKv: number;
  foreignRedis: number;
}

export const emptyStats = (): AggregatorStats => ({
  readings: 0,
  ignored: 0,
  late: 0,
  deadLetters: 0,
  notReadingSubjects: 0,
  batches: 0,
  largestBatch: 0,
  storeErrors: 0,
  cacheErrors: 0,
  forwarded: 0,
  partitions: 0,
  foreignKv: 0,
  foreignRedis: 0,
});

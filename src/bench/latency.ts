import { createHistogram, type RecordableHistogram } from "node:perf_hooks";

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/**
 * An HDR histogram of latencies (Node's own, `perf_hooks.createHistogram`: 3 significant
 * digits, constant memory), recorded in microseconds and reported in milliseconds.
 */
export class LatencyHistogram {
  private readonly histogram: RecordableHistogram = createHistogram({ lowest: 1, highest: 3_600_000_000, figures: 3 });

  /** A latency in ms; below 1 µs counts as 1 µs, a negative one (clock skew) as 1 µs too. */
  record(ms: number): void {
    if (!Number.isFinite(ms)) return;
    this.histogram.record(Math.min(3_600_000_000, Math.max(1, Math.round(ms * 1000))));
  }

  add(other: LatencyHistogram): void {
    this.histogram.add(other.histogram);
  }

  get count(): number {
    return this.histogram.count;
  }

  summary(): LatencySummary {
    const h = this.histogram;
    const at = (percentile: number): number => (h.count ? round(h.percentile(percentile) / 1000) : 0);
    return { count: h.count, p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: h.count ? round(h.max / 1000) : 0 };
  }
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

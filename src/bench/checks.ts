import type { MeasuredReport } from "./bench-report.js";
import { meets, type Metric, type Threshold, unitOf } from "./thresholds.js";

/**
 * What decides a bench's exit code 99 (issue 20): the run's own checks (nothing lost, the
 * served totals exact), the user's thresholds and, with --compare, the regressions. Each is
 * printed ✓/✗, and becomes a JUnit test case and a row of the Markdown summary. Pure.
 */
export interface Check {
  readonly kind: "run" | "threshold" | "regression";
  /** What was checked, e.g. `e2e.p99<250ms`. */
  readonly name: string;
  readonly passed: boolean;
  /** The measured value with its unit, e.g. `41.2 ms`; `not measured` when the run has no such figure. */
  readonly measured: string;
  /** The limit with its unit, e.g. `< 250 ms`. */
  readonly limit: string;
}

/** A metric's value in a report, in the metric's unit; undefined when the run did not measure it (a process it did not start). */
export function metricValue(report: MeasuredReport, metric: Metric): number | undefined {
  const [group, field] = metric.split(".") as [string, string | undefined];
  switch (group) {
    case "lost":
      return report.lost;
    case "totals":
      return report.totalsExact ? 1 : 0;
    case "behind":
      return report.sse.behind;
    case "rate":
      return report.readingsPerSec;
    case "ratio":
      return report.ratio;
    case "e2e":
      return report.latencyMs[field as keyof MeasuredReport["latencyMs"]];
    case "sse":
      return report.sse.deliveryMs[field as "p50" | "p99"];
    case "cpu":
      return report.processes.find((p) => p.key === field)?.cpuPercent;
    case "rss":
      return report.processes.find((p) => p.key === field)?.peakRssMb;
  }
  return undefined;
}

const withUnit = (value: number, unit: string): string => (unit === "" ? String(value) : unit === "%" ? `${value} %` : `${value} ${unit}`);

/** The run's own correctness: nothing lost, the served totals equal the ground truth. */
export function runChecks(report: MeasuredReport): Check[] {
  return [
    { kind: "run", name: "nothing lost", passed: report.lost === 0, measured: `${report.lost} lost`, limit: "== 0" },
    { kind: "run", name: "served totals exact", passed: report.totalsExact, measured: report.totalsExact ? "exact" : "differ", limit: "== ground truth" },
  ];
}

export function thresholdChecks(report: MeasuredReport, thresholds: readonly Threshold[]): Check[] {
  return thresholds.map((t) => {
    const measured = metricValue(report, t.metric);
    const unit = unitOf(t.metric);
    return {
      kind: "threshold",
      name: t.expression,
      passed: measured !== undefined && meets(t, measured),
      measured: measured === undefined ? "not measured" : withUnit(measured, unit),
      limit: `${t.operator} ${withUnit(t.limit, unit)}`,
    };
  });
}

/** The ✓/✗ lines printed at the end of a run. */
export function formatChecks(checks: readonly Check[]): string {
  const width = Math.max(0, ...checks.map((c) => c.name.length));
  return checks.map((c) => `${c.passed ? "✓" : "✗"} ${c.name.padEnd(width)}   ${c.measured}${c.passed ? "" : ` (limit ${c.limit})`}`).join("\n");
}

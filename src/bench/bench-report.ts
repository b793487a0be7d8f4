import type { BaselineReport } from "./baseline.js";
import type { LatencySummary } from "./latency.js";
import { type RunReport, runPassed } from "./pipeline-run.js";
import type { ProcessUsage } from "./process-stats.js";

/** The JSON `ecwatch bench --json` prints. */
export interface BenchReport {
  /** Readings/s through the whole pipeline; with --find-max, the highest rate that passed. */
  readonly readingsPerSec: number;
  readonly published: number;
  readonly lost: number;
  readonly deadLetters: number;
  readonly totalsExact: boolean;
  readonly passed: boolean;
  readonly latencyMs: LatencySummary;
  readonly sse: { readonly clients: number; readonly p99Ms: number; readonly events: number; readonly missedUpdates: number; readonly behind: number; readonly deliveryMs: LatencySummary };
  readonly baseline: BaselineReport;
  /** readingsPerSec / baseline.readingsPerSec: ratios hold on a shared machine where absolute times do not. */
  readonly ratio: number;
  readonly processes: readonly ProcessUsage[];
  readonly config: { readonly communities: number; readonly meters: number; readonly rate: number; readonly durationMs: number; readonly clients: number; readonly findMax: boolean };
  /** Each rate tried by --find-max. */
  readonly steps?: ReadonlyArray<{ readonly rate: number; readonly publishedPerSec: number; readonly aggregatedPerSec: number; readonly lost: number; readonly keptUp: boolean; readonly passed: boolean; readonly p99Ms: number }>;
}

/** The next rate of a --find-max ramp, or undefined when the ramp is over. */
export function nextRate(steps: readonly RunReport[], maxRate: number): number | undefined {
  const last = steps.at(-1);
  if (!last || !runPassed(last)) return undefined;
  const next = Math.round(last.targetRate * 1.25);
  return next > maxRate ? undefined : next;
}

/** The run a report is about: the only one, or the fastest that passed (else the first). */
export function chosenRun(steps: readonly RunReport[]): RunReport {
  const passed = steps.filter(runPassed);
  return passed.at(-1) ?? steps[0]!;
}

export function benchReport(steps: readonly RunReport[], baseline: BaselineReport, processes: readonly ProcessUsage[], config: BenchReport["config"]): BenchReport {
  const run = chosenRun(steps);
  const readingsPerSec = run.aggregatedPerSec;
  return {
    readingsPerSec,
    published: steps.reduce((sum, s) => sum + s.published, 0),
    lost: steps.reduce((sum, s) => sum + s.lost, 0),
    deadLetters: steps.reduce((sum, s) => sum + s.deadLetters, 0),
    totalsExact: steps.every((s) => s.totalsExact),
    passed: runPassed(run),
    latencyMs: run.latencyMs,
    sse: { clients: run.sse.clients, p99Ms: run.sse.deliveryMs.p99, events: run.sse.events, missedUpdates: run.sse.missedUpdates, behind: run.sse.behind, deliveryMs: run.sse.deliveryMs },
    baseline,
    ratio: baseline.readingsPerSec ? Math.round((readingsPerSec / baseline.readingsPerSec) * 100) / 100 : 0,
    processes,
    config,
    ...(config.findMax && {
      steps: steps.map((s) => ({ rate: s.targetRate, publishedPerSec: s.publishedPerSec, aggregatedPerSec: s.aggregatedPerSec, lost: s.lost, keptUp: s.keptUp, passed: runPassed(s), p99Ms: s.latencyMs.p99 })),
    }),
  };
}

/** The report as a table for people. */
export function formatReport(report: BenchReport): string {
  const l = report.latencyMs;
  const d = report.sse.deliveryMs;
  const rows: Array<[string, string]> = [
    [report.config.findMax ? "highest zero-loss rate" : "readings/s through the pipeline", `${report.readingsPerSec.toLocaleString("en")}/s`],
    ["raw JetStream baseline (same run)", `${report.baseline.readingsPerSec.toLocaleString("en")}/s`],
    ["ratio to the baseline", `${report.ratio} ×`],
    ["published / lost / dead letters", `${report.published.toLocaleString("en")} / ${report.lost} / ${report.deadLetters}`],
    ["totals equal the simulator's", report.totalsExact ? "yes" : "NO"],
    ["end-to-end p50 / p90 / p99 / p99.9 / max", `${l.p50} / ${l.p90} / ${l.p99} / ${l.p999} / ${l.max} ms`],
    [`baseline publish → consume at ${report.baseline.latencyAtRate.toLocaleString("en")}/s, p50 / p99`, `${report.baseline.latencyMs.p50} / ${report.baseline.latencyMs.p99} ms`],
    [`SSE: ${report.sse.clients} clients, delivery p50 / p99 / max`, `${d.p50} / ${d.p99} / ${d.max} ms`],
    ["SSE: events / missed updates / behind at end", `${report.sse.events.toLocaleString("en")} / ${report.sse.missedUpdates} / ${report.sse.behind}`],
    ...report.processes.map((p): [string, string] => [`${p.name} (pid ${p.pid})`, `${p.cpuPercent} % CPU, ${p.peakRssMb} MB peak RSS`]),
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const steps = report.steps?.map((s) => `  ${String(s.rate).padStart(7)}/s → published ${s.publishedPerSec}/s, aggregated ${s.aggregatedPerSec}/s, lost ${s.lost}, ${s.keptUp ? "kept up" : "fell behind"}, p99 ${s.p99Ms} ms ${s.passed ? "✓" : "✗"}`);
  return [...(steps ? ["find-max steps:", ...steps, ""] : []), ...rows.map(([label, value]) => `${label.padEnd(width)}   ${value}`)].join("\n");
}

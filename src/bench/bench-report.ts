import type { Phase } from "../sim/cadence.js";
import type { BaselineReport } from "./baseline.js";
import type { Check } from "./checks.js";
import type { LatencySummary } from "./latency.js";
import type { LoadShape } from "./load-shape.js";
import { type Hops, type RunReport, runPassed, type StageReport } from "./pipeline-run.js";
import type { ProcessUsage } from "./process-stats.js";
import { type NormalisedFigures, normalisedFigures } from "./regression.js";

/** What a report was measured against: a stack the bench started (on servers of its own or given ones), or an API and its NATS given by --api/--nats. */
export const TARGETS = ["local", "external"] as const;
export type Target = (typeof TARGETS)[number];

export interface BenchConfig {
  readonly communities: number;
  readonly meters: number;
  readonly scenario?: string;
  /** The peak rate of the load shape (a steady run's rate). */
  readonly rate: number;
  readonly durationMs: number;
  readonly clients: number;
  readonly phase: Phase;
  readonly findMax: boolean;
  readonly shape: LoadShape;
  /** The plan file the run came from. */
  readonly plan?: string;
}

/** The JSON `ecwatch bench --json` prints. */
export interface BenchReport {
  /** Readings/s through the whole pipeline; with --find-max, the highest rate that passed. */
  readonly readingsPerSec: number;
  readonly published: number;
  readonly lost: number;
  readonly deadLetters: number;
  readonly totalsExact: boolean;
  readonly passed: boolean;
  /** From a reading's due publish time to the aggregate's arrival at an SSE client; `hops` splits it. */
  readonly latencyMs: LatencySummary;
  readonly hops: Hops;
  /** A section per stage of the load shape (the only one of a steady run). */
  readonly stages: readonly StageReport[];
  readonly sse: { readonly clients: number; readonly p99Ms: number; readonly events: number; readonly missedUpdates: number; readonly behind: number; readonly deliveryMs: LatencySummary };
  readonly baseline: BaselineReport;
  /** readingsPerSec / baseline.readingsPerSec: ratios hold on a shared machine where absolute times do not. */
  readonly ratio: number;
  /** The figures --compare compares, each normalised by this run's own raw baseline. */
  readonly normalised: NormalisedFigures;
  /** CPU and peak RSS of each process measured, over the runs (not the baseline). */
  readonly processes: readonly ProcessUsage[];
  /** `external`: --api and --nats were given, nothing was started here (only the bench's own process is measured). */
  readonly target: Target;
  readonly config: BenchConfig;
  /** The run's own checks, the thresholds and the regressions, each passed or not: exit code 99 when one failed. */
  readonly checks: readonly Check[];
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

/** The report without its checks: what the checks are judged on. */
export type MeasuredReport = Omit<BenchReport, "checks">;

export function benchReport(steps: readonly RunReport[], baseline: BaselineReport, processes: readonly ProcessUsage[], target: Target, config: BenchConfig): MeasuredReport {
  const run = chosenRun(steps);
  const readingsPerSec = run.aggregatedPerSec;
  const published = steps.reduce((sum, s) => sum + s.published, 0);
  const ratio = baseline.readingsPerSec ? Math.round((readingsPerSec / baseline.readingsPerSec) * 100) / 100 : 0;
  return {
    readingsPerSec,
    published,
    lost: steps.reduce((sum, s) => sum + s.lost, 0),
    deadLetters: steps.reduce((sum, s) => sum + s.deadLetters, 0),
    totalsExact: steps.every((s) => s.totalsExact),
    passed: runPassed(run),
    latencyMs: run.latencyMs,
    hops: run.hops,
    stages: run.stages,
    sse: { clients: run.sse.clients, p99Ms: run.sse.deliveryMs.p99, events: run.sse.events, missedUpdates: run.sse.missedUpdates, behind: run.sse.behind, deliveryMs: run.sse.deliveryMs },
    baseline,
    ratio,
    normalised: normalisedFigures({ ratio, published, latencyMs: run.latencyMs, baseline, processes, config }),
    processes,
    target,
    config,
    ...(config.findMax && {
      steps: steps.map((s) => ({ rate: s.targetRate, publishedPerSec: s.publishedPerSec, aggregatedPerSec: s.aggregatedPerSec, lost: s.lost, keptUp: s.keptUp, passed: runPassed(s), p99Ms: s.latencyMs.p99 })),
    }),
  };
}

const ms = (l: LatencySummary): string => `${l.p50} / ${l.p99} ms`;

/** The report as a table for people, with a section per stage; the checks are printed apart (checks.ts). */
export function formatReport(report: MeasuredReport): string {
  const l = report.latencyMs;
  const d = report.sse.deliveryMs;
  const h = report.hops;
  const rows: Array<[string, string]> = [
    ["against", report.target === "external" ? "an external stack (--api/--nats): nothing started here, only the bench's own process measured" : "a stack started here"],
    [report.config.findMax ? "highest zero-loss rate" : "readings/s through the pipeline", `${report.readingsPerSec.toLocaleString("en")}/s`],
    ["raw JetStream baseline (same run)", `${report.baseline.readingsPerSec.toLocaleString("en")}/s`],
    ["ratio to the baseline", `${report.ratio} ×`],
    ["published / lost / dead letters", `${report.published.toLocaleString("en")} / ${report.lost} / ${report.deadLetters}`],
    ["totals equal the simulator's", report.totalsExact ? "yes" : "NO"],
    [`end-to-end (${report.config.phase} phases) p50 / p90 / p99 / p99.9 / max`, `${l.p50} / ${l.p90} / ${l.p99} / ${l.p999} / ${l.max} ms`],
    ["  publish → stored, p50 / p99", ms(h.publishToStored)],
    ["  stored → aggregate announced, p50 / p99", ms(h.storedToAnnounced)],
    ["  announced → SSE client, p50 / p99", ms(h.announcedToClient)],
    [`raw JetStream hop at ${report.baseline.latencyAtRate.toLocaleString("en")}/s, p50 / p99`, ms(report.baseline.latencyMs)],
    [`SSE: ${report.sse.clients} clients, delivery p50 / p99 / max`, `${d.p50} / ${d.p99} / ${d.max} ms`],
    ["SSE: events / missed updates / behind at end", `${report.sse.events.toLocaleString("en")} / ${report.sse.missedUpdates} / ${report.sse.behind}`],
    ...report.processes.map((p): [string, string] => [`${p.name} (pid ${p.pid})`, `${p.cpuPercent} % CPU, ${p.peakRssMb} MB peak RSS`]),
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const steps = report.steps?.map((s) => `  ${String(s.rate).padStart(7)}/s → published ${s.publishedPerSec}/s, aggregated ${s.aggregatedPerSec}/s, lost ${s.lost}, ${s.keptUp ? "kept up" : "fell behind"}, p99 ${s.p99Ms} ms ${s.passed ? "✓" : "✗"}`);
  const stages = report.stages.length > 1 ? ["stages:", ...report.stages.map(formatStage), ""] : [];
  return [...(steps ? ["find-max steps:", ...steps, ""] : []), ...stages, ...rows.map(([label, value]) => `${label.padEnd(width)}   ${value}`)].join("\n");
}

/** One stage's line: its ramp, the readings it scheduled and the rate measured. */
export function formatStage(stage: StageReport, index: number): string {
  const ramp = stage.fromRate === stage.toRate ? `${stage.toRate.toLocaleString("en")}/s` : `${stage.fromRate.toLocaleString("en")} → ${stage.toRate.toLocaleString("en")}/s`;
  return `  ${index + 1}. ${stage.durationMs / 1000} s at ${ramp}: ${stage.scheduled.toLocaleString("en")} readings scheduled, ${stage.published.toLocaleString("en")} published, measured ${stage.measuredRate.toLocaleString("en")}/s`;
}

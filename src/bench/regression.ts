import type { Check } from "./checks.js";

/**
 * `--compare <saved report> --max-regression <n>%` (issue 20). Raw times differ between CI
 * runners, so a run is compared with a saved one through figures that each run normalises by
 * its own raw JetStream baseline, measured on the same machine a moment before. Pure.
 */
export interface NormalisedFigures {
  /**
   * Pipeline readings/s ÷ the raw baseline's: higher is better. Only of a --find-max run: at a
   * fixed rate the pipeline's readings/s are the offered rate, and a faster runner (a higher
   * baseline) would lower the ratio without anything getting worse.
   */
  readonly ratio?: number;
  /** End-to-end p50 ÷ the raw hop's p50 at the same rate: lower is better. */
  readonly e2eP50PerRaw: number;
  /** End-to-end p99 ÷ the raw hop's p99 at the same rate: lower is better. */
  readonly e2eP99PerRaw: number;
  /**
   * CPU time of the pipeline's processes per reading ÷ the raw baseline's wall time per reading
   * (1 / its readings/s): lower is better. Absent when no pipeline process was measured (an
   * external stack).
   */
  readonly cpuPerReading?: number;
}

/** The parts of a report the figures come from (a saved report of an earlier version has them too). */
export interface ComparableReport {
  readonly ratio: number;
  readonly config?: { readonly findMax?: boolean };
  readonly published: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number };
  readonly baseline: { readonly readingsPerSec: number; readonly latencyMs: { readonly p50: number; readonly p99: number } };
  readonly processes: ReadonlyArray<{ readonly key?: string; readonly cpuMs?: number }>;
}

const round = (value: number): number => Math.round(value * 1000) / 1000;
const per = (value: number, by: number): number => (by > 0 ? round(value / by) : 0);

export function normalisedFigures(report: ComparableReport): NormalisedFigures {
  const pipeline = report.processes.filter((p) => p.key !== undefined && p.key !== "bench" && p.cpuMs !== undefined);
  const cpuMs = pipeline.reduce((sum, p) => sum + p.cpuMs!, 0);
  return {
    ...(report.config?.findMax === true && { ratio: report.ratio }),
    e2eP50PerRaw: per(report.latencyMs.p50, report.baseline.latencyMs.p50),
    e2eP99PerRaw: per(report.latencyMs.p99, report.baseline.latencyMs.p99),
    ...(pipeline.length > 0 && report.published > 0 && { cpuPerReading: round(((cpuMs / report.published) * report.baseline.readingsPerSec) / 1000) }),
  };
}

const FIGURES: ReadonlyArray<{ readonly key: keyof NormalisedFigures; readonly label: string; readonly higherIsBetter: boolean }> = [
  { key: "ratio", label: "ratio to the raw baseline", higherIsBetter: true },
  { key: "e2eP50PerRaw", label: "e2e p50 ÷ raw hop p50", higherIsBetter: false },
  { key: "e2eP99PerRaw", label: "e2e p99 ÷ raw hop p99", higherIsBetter: false },
  { key: "cpuPerReading", label: "CPU per reading ÷ raw time per reading", higherIsBetter: false },
];

/** Parses `--max-regression`: `10%` or `10` (percent), 0 to 1000. */
export function parseMaxRegression(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  const percent = match ? Number(match[1]) : NaN;
  return Number.isFinite(percent) && percent <= 1000 ? percent : undefined;
}

/** One check per figure both runs have: failed when this run is worse than the saved one by more than `maxPercent`. */
export function regressionChecks(current: NormalisedFigures, previous: NormalisedFigures, maxPercent: number): Check[] {
  return FIGURES.flatMap(({ key, label, higherIsBetter }) => {
    const now = current[key];
    const before = previous[key];
    if (now === undefined || before === undefined || !(before > 0)) return [];
    const limit = round(before * (higherIsBetter ? 1 - maxPercent / 100 : 1 + maxPercent / 100));
    const change = Math.round(((now - before) / before) * 1000) / 10;
    return [
      {
        kind: "regression" as const,
        name: `${label} within ${maxPercent} % of the saved run`,
        passed: higherIsBetter ? now >= limit : now <= limit,
        measured: `${now} (saved ${before}, ${change >= 0 ? "+" : ""}${change} %)`,
        limit: `${higherIsBetter ? ">=" : "<="} ${limit}`,
      },
    ];
  });
}

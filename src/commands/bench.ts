import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { apiClientAt } from "../app/api-client.js";
import { ensureReadingTopology, jetStreamPublisherOn, openNats } from "../app/adapters.js";
import { StatusLine } from "../cli/output.js";
import { untilSignal } from "../cli/signals.js";
import { resolveSecurity, type SecurityFlags } from "../config/connection-settings.js";
import { errorMessage, ExitCode, UsageError } from "../errors.js";
import { runBaseline } from "../bench/baseline.js";
import { type BenchReport, benchReport, formatReport, nextRate, type Target } from "../bench/bench-report.js";
import { formatChecks, runChecks, thresholdChecks } from "../bench/checks.js";
import { junitXml, markdownSummary } from "../bench/ci-reports.js";
import { type LoadShape, peakRate, steady, totalDurationMs } from "../bench/load-shape.js";
import { type BenchPlan, type BenchSettings, benchSettings, PlanError, parsePlanText } from "../bench/plan.js";
import { type ComparableReport, normalisedFigures, regressionChecks } from "../bench/regression.js";
import type { Threshold } from "../bench/thresholds.js";
import type { Phase } from "../sim/cadence.js";
import { loadScenario } from "../sim/setup.js";
import { startBenchStack } from "../app/stack.js";
import type { FaultSpec } from "../sim/faults.js";
import { runAtRate, RunInterrupted, type RunReport, runPassed } from "../bench/pipeline-run.js";
import { ProcessMonitor } from "../bench/process-stats.js";

export interface BenchFlags extends SecurityFlags {
  readonly communities: number;
  readonly meters: number;
  readonly scenario?: string;
  readonly rate: number;
  readonly duration: number;
  readonly clients: number;
  readonly phase: Phase;
  readonly seed: number;
  readonly faults?: FaultSpec;
  readonly findMax?: boolean;
  readonly maxRate: number;
  readonly baselineReadings: number;
  /** --threshold, each parsed. */
  readonly threshold?: readonly Threshold[];
  readonly plan?: string;
  readonly junit?: string;
  readonly summary?: string;
  readonly compare?: string;
  /** --max-regression in percent. */
  readonly maxRegression?: number;
  readonly json?: boolean;
  readonly out?: string;
  readonly nats?: string;
  readonly redis?: string;
  readonly api?: string;
}

/** --max-regression without its own value. */
const DEFAULT_MAX_REGRESSION = 10;

/** Runs the benchmark; `given` names the flags written on the command line (not defaults): they override the plan's keys. */
export async function runBench(flags: BenchFlags, given: ReadonlySet<string>): Promise<ExitCode> {
  if (flags.api && !flags.nats) throw new UsageError("--api needs --nats too: the benchmark publishes to the NATS its aggregator reads.");
  if (flags.api && flags.redis) throw new UsageError("--api takes no --redis: the running API's aggregator has its own Redis, and nothing is started here.", "Drop --redis.");
  if (flags.maxRegression !== undefined && !flags.compare) throw new UsageError("--max-regression needs --compare <saved report.json>.");
  if (given.has("scenario") && given.has("meters")) throw new UsageError("--meters sets the size of the default scenario; a --scenario sets its own meters.", "Drop one of them.");
  const settings = resolveSettings(flags, given);
  if (flags.findMax && settings.shape.stages.length > 1) throw new UsageError("--find-max ramps the rate its own way; it takes no plan with stages.", "Drop --find-max, or give --rate.");
  const meters = settings.scenario === undefined ? settings.meters : scenarioMeters(settings.scenario);
  const previous = flags.compare ? readSavedReport(flags.compare) : undefined;
  // With --api (and its --nats), nothing of ecwatch is started here: the stack is someone else's.
  const target: Target = flags.api ? "external" : "local";

  const status = new StatusLine(process.stderr);
  const say = (text: string): void => {
    status.clear();
    process.stderr.write(`${text}\n`);
  };
  const interruption = new AbortController();
  void untilSignal().then(() => interruption.abort());
  const checkpoint = (): void => {
    if (interruption.signal.aborted) throw new RunInterrupted("the benchmark was interrupted");
  };

  say(target === "external" ? `bench: against the external stack at ${flags.api} (NATS ${flags.nats}); nothing is started here…` : "bench: starting the stack…");
  const security = resolveSecurity(flags);
  const stack = await startBenchStack({ ...flags, security, apiAt: (url) => apiClientAt(url) });
  const nc = await openNats(stack.natsUrl, "ecwatch-bench", security);
  const monitor = new ProcessMonitor(stack.processes);
  // The run's GETs wait as long as the API takes: a slow answer is a finding, not a failure.
  const api = apiClientAt(stack.apiUrl, { timeoutMs: null });
  try {
    const jsm = await ensureReadingTopology(nc);
    const rate = peakRate(settings.shape);
    say(`bench: raw JetStream baseline (${flags.baselineReadings.toLocaleString("en")} readings)…`);
    const baseline = await runBaseline(nc, jsm, () => jetStreamPublisherOn(nc), flags.baselineReadings, rate);
    checkpoint();
    // CPU and memory of the runs, not of the baseline.
    monitor.start();
    const steps: RunReport[] = [];
    for (let shape: LoadShape | undefined = settings.shape; shape !== undefined; shape = flags.findMax ? nextShape(steps, flags.maxRate, flags.duration) : undefined) {
      const label = `${describeShape(shape)}, ${settings.communities} × ${meters} meters (${settings.phase} phases), ${settings.clients} SSE clients`;
      say(`bench: ${label} for ${totalDurationMs(shape) / 1000} s…`);
      const run = await runAtRate(() => jetStreamPublisherOn(nc), jsm, api, {
        communities: settings.communities,
        meters,
        ...(settings.scenario !== undefined && { scenario: settings.scenario }),
        shape,
        phase: settings.phase,
        clients: settings.clients,
        seed: flags.seed,
        faults: settings.faults,
        signal: interruption.signal,
        onProgress: (done) => status.update(`${bar(done)} ${label}`),
      });
      steps.push(run);
      say(`  → ${run.aggregatedPerSec.toLocaleString("en")}/s aggregated, lost ${run.lost}, p99 ${run.latencyMs.p99} ms ${runPassed(run) ? "✓" : "✗"}`);
      checkpoint();
    }
    const measured = benchReport(steps, baseline, monitor.stop(), target, {
      communities: settings.communities,
      meters,
      ...(settings.scenario !== undefined && { scenario: settings.scenario }),
      rate,
      durationMs: totalDurationMs(settings.shape),
      clients: settings.clients,
      phase: settings.phase,
      findMax: flags.findMax === true,
      shape: settings.shape,
      ...(flags.plan && { plan: flags.plan }),
    });
    const checks = [
      ...runChecks(measured),
      ...thresholdChecks(measured, settings.thresholds),
      ...(previous ? regressionChecks(measured.normalised, normalisedFigures(previous), flags.maxRegression ?? DEFAULT_MAX_REGRESSION) : []),
    ];
    const report: BenchReport = { ...measured, checks };
    if (flags.out) writeFileSync(flags.out, `${JSON.stringify(report, null, 2)}\n`);
    if (flags.junit) writeFileSync(flags.junit, junitXml(report, new Date().toISOString()));
    if (flags.summary) appendFileSync(flags.summary, markdownSummary(report));
    process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n\n${formatChecks(checks)}\n`);
    // Wrong answers and breached thresholds fail the command with k6's 99; speed is judged only by the user's thresholds.
    return checks.every((c) => c.passed) ? ExitCode.Ok : ExitCode.Breached;
  } catch (err) {
    if (!(err instanceof RunInterrupted)) throw err;
    say("bench: interrupted");
  } finally {
    status.clear();
    monitor.stop();
    await nc.close().catch(() => undefined);
    await stack.stop();
  }
  return ExitCode.Ok;
}

/** The plan file (if any) with the flags over it; a bad plan is a usage error naming the field. */
function resolveSettings(flags: BenchFlags, given: ReadonlySet<string>): BenchSettings {
  let plan: BenchPlan = {};
  try {
    if (flags.plan) plan = parsePlanText(readText(flags.plan, "--plan"), flags.plan);
    return benchSettings(plan, { ...flags, given });
  } catch (err) {
    if (err instanceof PlanError) throw new UsageError(`--plan ${flags.plan ?? ""}: ${err.message}.`, "See docs/load-testing.md for the plan's keys.");
    throw err;
  }
}

/** Meters per community of a scenario; one with meters at their own interval has no rate to set. */
function scenarioMeters(name: string): number {
  const scenario = loadScenario(name);
  if (scenario.groups.some((g) => g.intervalMs !== undefined)) throw new UsageError(`The scenario ${name} sets its meters' own intervalMs: the bench sets the interval from the rate.`, "Use a scenario without intervalMs.");
  return scenario.groups.reduce((sum, g) => sum + g.count, 0);
}

function readText(file: string, flag: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`${flag} ${file}: ${errorMessage(err)}.`);
  }
}

/** A report saved by --out (or --json) of an earlier run, with the fields --compare needs. */
function readSavedReport(file: string): ComparableReport {
  let value: unknown;
  try {
    value = JSON.parse(readText(file, "--compare"));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--compare ${file}: not JSON (${errorMessage(err)}).`, "Give a report saved with --out.");
  }
  const missing = savedReportProblem(value);
  if (missing) throw new UsageError(`--compare ${file}: ${missing}.`, "Give a report saved with --out.");
  return value as ComparableReport;
}

/** The first field --compare needs that a saved report lacks. */
function savedReportProblem(value: unknown): string | undefined {
  const at = (path: string): unknown => path.split(".").reduce<unknown>((v, key) => (typeof v === "object" && v !== null ? (v as Record<string, unknown>)[key] : undefined), value);
  const numbers = ["ratio", "published", "latencyMs.p50", "latencyMs.p99", "baseline.readingsPerSec", "baseline.latencyMs.p50", "baseline.latencyMs.p99"];
  const missing = numbers.find((path) => typeof at(path) !== "number");
  if (missing) return `no number at ${missing}`;
  return Array.isArray(at("processes")) ? undefined : "no processes list";
}

/** --find-max's next steady run, or undefined when the ramp is over. */
function nextShape(steps: readonly RunReport[], maxRate: number, durationMs: number): LoadShape | undefined {
  const rate = nextRate(steps, maxRate);
  return rate === undefined ? undefined : steady(rate, durationMs);
}

function describeShape(shape: LoadShape): string {
  if (shape.stages.length === 1 && shape.startRate === shape.stages[0]!.rate) return `${shape.startRate.toLocaleString("en")} readings/s`;
  return `${shape.stages.length} stages up to ${peakRate(shape).toLocaleString("en")} readings/s`;
}

function bar(done: number, width = 24): string {
  const filled = Math.round(done * width);
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${Math.round(done * 100)
    .toString()
    .padStart(3)} %`;
}

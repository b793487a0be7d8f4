import { writeFileSync } from "node:fs";
import { apiClientAt } from "../app/api-client.js";
import { ensureReadingTopology, jetStreamPublisherOn, openNats } from "../app/adapters.js";
import { StatusLine } from "../cli/output.js";
import { untilSignal } from "../cli/signals.js";
import { resolveSecurity, type SecurityFlags } from "../config/connection-settings.js";
import { ExitCode, UsageError } from "../errors.js";
import { runBaseline } from "../bench/baseline.js";
import { benchReport, formatReport, nextRate } from "../bench/bench-report.js";
import { startBenchStack } from "../app/stack.js";
import type { FaultSpec } from "../sim/faults.js";
import { runAtRate, RunInterrupted, type RunReport, runPassed } from "../bench/pipeline-run.js";
import { ProcessMonitor } from "../bench/process-stats.js";

export interface BenchFlags extends SecurityFlags {
  readonly communities: number;
  readonly meters: number;
  readonly rate: number;
  readonly duration: number;
  readonly clients: number;
  readonly seed: number;
  readonly faults?: FaultSpec;
  readonly findMax?: boolean;
  readonly maxRate: number;
  readonly baselineReadings: number;
  readonly json?: boolean;
  readonly out?: string;
  readonly nats?: string;
  readonly redis?: string;
  readonly api?: string;
}

export async function runBench(flags: BenchFlags): Promise<ExitCode> {
  if (flags.api && !flags.nats) throw new UsageError("--api needs --nats too: the benchmark publishes to the NATS its aggregator reads.");
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

  say("bench: starting the stack…");
  const security = resolveSecurity(flags);
  const stack = await startBenchStack({ ...flags, security, apiAt: (url) => apiClientAt(url) });
  const nc = await openNats(stack.natsUrl, "ecwatch-bench", security);
  const monitor = new ProcessMonitor(stack.processes);
  // The run's GETs wait as long as the API takes: a slow answer is a finding, not a failure.
  const api = apiClientAt(stack.apiUrl, { timeoutMs: null });
  try {
    const jsm = await ensureReadingTopology(nc);
    monitor.start();
    say(`bench: raw JetStream baseline (${flags.baselineReadings.toLocaleString("en")} readings)…`);
    const baseline = await runBaseline(nc, jsm, () => jetStreamPublisherOn(nc), flags.baselineReadings, flags.rate);
    checkpoint();
    const steps: RunReport[] = [];
    for (let rate: number | undefined = flags.rate; rate !== undefined; rate = flags.findMax ? nextRate(steps, flags.maxRate) : undefined) {
      const label = `${rate.toLocaleString("en")} readings/s, ${flags.communities} × ${flags.meters} meters, ${flags.clients} SSE clients`;
      say(`bench: ${label} for ${flags.duration / 1000} s…`);
      const run = await runAtRate(() => jetStreamPublisherOn(nc), jsm, api, {
        communities: flags.communities,
        meters: flags.meters,
        rate,
        durationMs: flags.duration,
        clients: flags.clients,
        seed: flags.seed,
        faults: flags.faults,
        signal: interruption.signal,
        onProgress: (done) => status.update(`${bar(done)} ${label}`),
      });
      steps.push(run);
      say(`  → ${run.aggregatedPerSec.toLocaleString("en")}/s aggregated, lost ${run.lost}, p99 ${run.latencyMs.p99} ms ${runPassed(run) ? "✓" : "✗"}`);
      checkpoint();
    }
    const report = benchReport(steps, baseline, monitor.stop(), {
      communities: flags.communities,
      meters: flags.meters,
      rate: flags.rate,
      durationMs: flags.duration,
      clients: flags.clients,
      findMax: flags.findMax === true,
    });
    if (flags.out) writeFileSync(flags.out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n`);
    // Wrong answers fail the command; speed is reported, not judged (machines are shared and noisy).
    return report.lost > 0 || !report.totalsExact ? ExitCode.Failure : ExitCode.Ok;
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

function bar(done: number, width = 24): string {
  const filled = Math.round(done * width);
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${Math.round(done * 100)
    .toString()
    .padStart(3)} %`;
}

import { createWriteStream, openSync, type WriteStream } from "node:fs";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connectNats, ensureTopology } from "../bus/nats-bus.js";
import { colorsFor, StatusLine } from "../cli/output.js";
import { untilSignal } from "../cli/signals.js";
import { resolveEndpoint } from "../config.js";
import { formatDuration } from "../domain/duration.js";
import { EcwatchError, UsageError } from "../errors.js";
import { redactUrl } from "../url.js";
import { JetStreamSink } from "../sim/jetstream-sink.js";
import { type SimulationPlan, planSimulation, reportOf } from "../sim/setup.js";
import { Simulator } from "../sim/simulator.js";
import { formatTraceLine } from "../sim/trace.js";

export interface SimFlags extends SimulationPlan {
  /** Data time per wall-clock time; Infinity for as fast as possible. */
  readonly speed: number;
  readonly staleAfter: number;
  readonly record?: string;
  readonly json?: boolean;
  readonly nats?: string;
}

/** Opens the --record file before anything runs: an unwritable path is a usage error, not a crash. */
function openRecording(file: string | undefined): WriteStream | undefined {
  if (!file) return undefined;
  let fd: number;
  try {
    fd = openSync(file, "w");
  } catch (err) {
    throw new UsageError(`--record ${file}: cannot write it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
  }
  return createWriteStream(file, { fd });
}

export async function runSim(flags: SimFlags): Promise<void> {
  const simulation = planSimulation(flags);
  const recording = openRecording(flags.record);
  const natsUrl = resolveEndpoint("nats", flags.nats);
  const nc = await connectNats(natsUrl, "ecwatch-sim");
  const status = new StatusLine(process.stderr);
  const colors = colorsFor(process.stderr);
  let writeError: Error | undefined;
  try {
    await ensureTopology(await jetstreamManager(nc));
    const simulator = new Simulator(new JetStreamSink(jetstream(nc)), simulation.source, {
      speed: flags.speed,
      staleAfterMs: flags.staleAfter,
      record: recording && ((entry) => recording!.write(`${formatTraceLine(entry)}\n`)),
    });
    if (!flags.json) {
      const pace = flags.replay ? "" : ` every ${formatDuration(flags.intervalMs)} of data time`;
      const speed = flags.speed === Number.POSITIVE_INFINITY ? "as fast as acknowledged" : flags.speed === 1 ? "in real time" : `at ${flags.speed}× speed`;
      const length = flags.durationMs ? ` for ${formatDuration(flags.durationMs)}` : simulation.models ? " (Ctrl-C stops)" : "";
      process.stderr.write(`${colors.bold("sim")} ${simulation.describe}${pace}, ${speed}${length} → ${redactUrl(natsUrl)}\n`);
    }
    const started = Date.now();
    const ticker = setInterval(() => {
      const { sent, acked, errors, dataTimeMs } = simulator.stats;
      const rate = acked / Math.max(1, (Date.now() - started) / 1000);
      const dataTime = dataTimeMs === undefined ? "" : ` · data time ${new Date(dataTimeMs).toISOString().slice(0, 19).replace("T", " ")}`;
      status.update(`published ${sent} · acked ${acked} · ${rate.toFixed(0)}/s · errors ${errors ? colors.red(errors) : 0}${dataTime}`);
    }, 250);
    recording?.on("error", (err) => {
      writeError = err;
      void simulator.stop();
    });
    await Promise.race([simulator.start(), untilSignal().then(() => simulator.stop())]);
    if (writeError) throw new EcwatchError("RECORD_FAILED", `Writing ${flags.record} failed: ${writeError.message}.`, { cause: writeError });
    clearInterval(ticker);
    status.clear();
    const report = reportOf(simulator, simulation);
    if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      const faults = report.faults ? ` · faults ${JSON.stringify(report.faults)}` : "";
      process.stderr.write(`published ${report.published} readings, ${report.errors} errors${faults}\n`);
      if (simulator.stats.lastError) process.stderr.write(`last error: ${simulator.stats.lastError}\n`);
    }
    if (report.errors > 0) process.exitCode = 1;
  } finally {
    if (recording) await new Promise((resolve) => recording!.end(resolve));
    await nc.drain().catch(() => undefined);
  }
}

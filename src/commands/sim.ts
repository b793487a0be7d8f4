import { createWriteStream, openSync, type WriteStream } from "node:fs";
import { openJetStreamTransport, openMqttTransport, type ReadingTransport } from "../app/adapters.js";
import { colorsFor, StatusLine } from "../cli/output.js";
import { untilSignal } from "../cli/signals.js";
import { resolveEndpoint, resolveSecurity, type SecurityFlags } from "../config/connection-settings.js";
import { formatDuration } from "../domain/duration.js";
import { EcwatchError, ExitCode, UsageError } from "../errors.js";
import { type FaultSpec, NO_FAULTS } from "../sim/faults.js";
import type { Transport } from "../sim/reading-sink.js";
import { type SimulationPlan, type SimulationReport, planSimulation, reportOf } from "../sim/setup.js";
import { Simulator } from "../sim/simulator.js";
import { formatTraceLine } from "../sim/trace.js";

export interface SimFlags extends Omit<SimulationPlan, "intervalMs" | "startMs" | "durationMs" | "faults">, Pick<SecurityFlags, "natsCreds" | "natsTlsCa"> {
  /** Data time between two readings of a meter whose scenario group sets no `intervalMs`, in ms. */
  readonly interval: number;
  /** Data time of the first reading, ms since the epoch; now when undefined. */
  readonly start?: number;
  /** Data time to simulate, in ms; endless when undefined. */
  readonly duration?: number;
  /** Faults to inject; none when undefined. */
  readonly faults?: FaultSpec;
  /** Data time per wall-clock time; Infinity for as fast as possible. */
  readonly speed: number;
  readonly staleAfter: number;
  readonly record?: string;
  readonly json?: boolean;
  readonly transport: Transport;
  readonly nats?: string;
  readonly mqtt?: string;
}

/** JetStream (the stream and consumer ensured first), or MQTT as a device publishes. */
function openTransport(flags: SimFlags): Promise<ReadingTransport> {
  if (flags.transport === "mqtt") return openMqttTransport(resolveEndpoint("mqtt", flags.mqtt), `ecwatch-sim-${process.pid}`);
  return openJetStreamTransport(resolveEndpoint("nats", flags.nats), resolveSecurity(flags), { ensure: true });
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

/** "retried 120 sends (80 already stored): disconnected 100, timeout 20". */
function describeRetries(publish: NonNullable<SimulationReport["publish"]>): string {
  const causes = Object.entries(publish.errors)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(", ");
  const stored = publish.duplicates ? ` (${publish.duplicates} already stored)` : "";
  return `retried ${publish.retried} ${publish.retried === 1 ? "send" : "sends"}${stored}${causes ? `: ${causes}` : ""}`;
}

export async function runSim(flags: SimFlags): Promise<ExitCode> {
  const simulation = planSimulation({ ...flags, intervalMs: flags.interval, startMs: flags.start, durationMs: flags.duration, faults: flags.faults ?? NO_FAULTS });
  const recording = openRecording(flags.record);
  const transport = await openTransport(flags);
  const status = new StatusLine(process.stderr);
  const colors = colorsFor(process.stderr);
  let writeError: Error | undefined;
  try {
    const simulator = new Simulator(transport.sink, simulation.source, {
      speed: flags.speed,
      staleAfterMs: flags.staleAfter,
      record: recording && ((entry) => recording!.write(`${formatTraceLine(entry)}\n`)),
    });
    if (!flags.json) {
      const pace = flags.replay ? "" : ` every ${formatDuration(flags.interval)} of data time${simulation.ownIntervals ? " unless its group sets its own interval" : ""}`;
      const speed = flags.speed === Number.POSITIVE_INFINITY ? "as fast as acknowledged" : flags.speed === 1 ? "in real time" : `at ${flags.speed}× speed`;
      const length = flags.duration ? ` for ${formatDuration(flags.duration)}` : simulation.models ? " (Ctrl-C stops)" : "";
      process.stderr.write(`${colors.bold("sim")} ${simulation.describe}${pace}, ${speed}${length} → ${transport.target}\n`);
    }
    const started = Date.now();
    const ticker = setInterval(() => {
      const { sent, acked, errors, dataTimeMs } = simulator.stats;
      const retried = transport.report()?.retried ?? 0;
      const rate = acked / Math.max(1, (Date.now() - started) / 1000);
      const dataTime = dataTimeMs === undefined ? "" : ` · data time ${new Date(dataTimeMs).toISOString().slice(0, 19).replace("T", " ")}`;
      const retries = retried ? ` · retried ${colors.yellow(retried)}` : "";
      status.update(`published ${sent} · acked ${acked} · ${rate.toFixed(0)}/s${retries} · errors ${errors ? colors.red(errors) : 0}${dataTime}`);
    }, 250);
    recording?.on("error", (err) => {
      writeError = err;
      void simulator.stop();
    });
    await Promise.race([simulator.start(), untilSignal().then(() => simulator.stop())]);
    if (writeError) throw new EcwatchError("RECORD_FAILED", `Writing ${flags.record} failed: ${writeError.message}.`, { cause: writeError });
    clearInterval(ticker);
    status.clear();
    const report = reportOf(simulator, simulation, transport.report());
    if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      const faults = report.faults ? ` · faults ${JSON.stringify(report.faults)}` : "";
      process.stderr.write(`published ${report.published} readings, ${report.errors} errors${faults}\n`);
      const publish = report.publish;
      if (publish?.retried) process.stderr.write(`${describeRetries(publish)}\n`);
      const lastError = simulator.stats.lastError ?? (publish?.retried ? publish.lastError : undefined);
      if (lastError) process.stderr.write(`last error: ${lastError}\n`);
    }
    return report.errors > 0 ? ExitCode.Failure : ExitCode.Ok;
  } finally {
    if (recording) await new Promise((resolve) => recording!.end(resolve));
    await transport.close();
  }
}

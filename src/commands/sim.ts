import { jetstreamManager } from "@nats-io/jetstream";
import { jetstream } from "@nats-io/jetstream";
import { ensureTopology } from "../bus/nats-bus.js";
import { connectNats } from "../bus/nats-bus.js";
import { colorsFor, StatusLine } from "../cli/output.js";
import { untilSignal } from "../cli/signals.js";
import { resolveEndpoint } from "../config.js";
import { formatDuration } from "../domain/duration.js";
import { loadHouseholdProfile } from "../sim/fixtures.js";
import { JetStreamSink } from "../sim/jetstream-sink.js";
import { type ReadingLevel, Simulator } from "../sim/simulator.js";

export interface SimFlags {
  readonly communities: number;
  readonly meters: number;
  readonly interval: number;
  readonly duration?: number;
  readonly seed: number;
  readonly level: ReadingLevel;
  readonly staleAfter: number;
  readonly json?: boolean;
  readonly nats?: string;
}

export async function runSim(flags: SimFlags): Promise<void> {
  const natsUrl = resolveEndpoint("nats", flags.nats);
  const nc = await connectNats(natsUrl, "ecwatch-sim");
  const status = new StatusLine(process.stderr);
  const colors = colorsFor(process.stderr);
  try {
    await ensureTopology(await jetstreamManager(nc));
    const simulator = new Simulator(new JetStreamSink(jetstream(nc)), {
      communities: flags.communities,
      meters: flags.meters,
      intervalMs: flags.interval,
      durationMs: flags.duration,
      seed: flags.seed,
      level: flags.level,
      profile: loadHouseholdProfile(),
      staleAfterMs: flags.staleAfter,
    });
    const perTick = flags.level === "community" ? flags.communities : flags.communities * flags.meters;
    if (!flags.json) {
      process.stderr.write(
        `${colors.bold("sim")} ${flags.communities} communities × ${flags.meters} meters, ${flags.level} readings every ${formatDuration(flags.interval)} → ${natsUrl}` +
          `${flags.duration ? ` for ${formatDuration(flags.duration)}` : " (Ctrl-C stops)"}\n`,
      );
    }
    const started = Date.now();
    const ticker = setInterval(() => {
      const { published, errors } = simulator.stats;
      const rate = published / Math.max(1, (Date.now() - started) / 1000);
      status.update(`published ${published} · ${rate.toFixed(0)}/s · ${perTick} per tick · errors ${errors ? colors.red(errors) : 0}`);
    }, 500);
    const done = simulator.start();
    await Promise.race([done, untilSignal().then(() => simulator.stop())]);
    clearInterval(ticker);
    status.clear();
    const report = simulator.report();
    if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      process.stderr.write(`published ${report.published} readings, ${report.errors} errors\n`);
      if (simulator.stats.lastError) process.stderr.write(`last error: ${simulator.stats.lastError}\n`);
    }
    if (report.errors > 0) process.exitCode = 1;
  } finally {
    await nc.drain().catch(() => undefined);
  }
}

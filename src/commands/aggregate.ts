import { PARTITIONS } from "../wire/names.js";
import type { LogLevel } from "../cli/log-levels.js";
import { createLogger } from "../cli/logger.js";
import { StatusLine } from "../cli/output.js";
import { untilSignal } from "../cli/signals.js";
import { resolveEndpoint, resolveSecurity, type SecurityFlags } from "../config/connection-settings.js";
import { EcwatchError, ExitCode, errorMessage } from "../errors.js";
import { serveMetrics } from "../prometheus/metrics-server.js";
import { redactUrl } from "../url.js";
import { startAggregation } from "../app/services.js";
import { foreignWriteMessage } from "../aggregator/foreign-writes.js";

export interface AggregateFlags extends SecurityFlags {
  readonly nats?: string;
  readonly redis?: string;
  readonly staleAfter: number;
  readonly retentionAge: number;
  readonly retentionBytes: number;
  readonly json?: boolean;
  /** Default info. */
  readonly logLevel?: LogLevel;
  /** Serve GET /metrics on this port (0: a free one); off when not given. */
  readonly metricsPort?: number;
  /** Default 127.0.0.1. */
  readonly metricsHost?: string;
}

export async function runAggregate(flags: AggregateFlags): Promise<ExitCode> {
  const natsUrl = resolveEndpoint("nats", flags.nats);
  const redisUrl = resolveEndpoint("redis", flags.redis);
  const log = createLogger({ level: flags.logLevel });
  const status = new StatusLine(process.stderr);
  const service = await startAggregation(natsUrl, redisUrl, {
    staleAfterMs: flags.staleAfter,
    retention: { maxAgeMs: flags.retentionAge, maxBytes: flags.retentionBytes },
    security: resolveSecurity(flags),
    onAggregate: flags.json ? (aggregate) => process.stdout.write(`${JSON.stringify(aggregate)}\n`) : undefined,
    onError: (err) => {
      status.clear();
      log.warn(`${errorMessage(err)} (retrying)`);
    },
    onForeignWrite: (write) => {
      status.clear();
      log.warn(foreignWriteMessage(write));
    },
  });
  for (const change of service.changes) log.info(change);
  for (const warning of service.warnings) log.warn(warning);
  const metrics = flags.metricsPort === undefined ? undefined : await serveMetrics([service.metrics], flags.metricsHost ?? "127.0.0.1", flags.metricsPort).catch(async (err: unknown) => {
    await service.stop();
    throw new EcwatchError("PORT_IN_USE", `Cannot serve the metrics on ${flags.metricsHost ?? "127.0.0.1"}:${flags.metricsPort} (${errorMessage(err)}).`, {
      hint: "Pass another --metrics-port, or stop what uses it.",
      cause: err,
    });
  });
  if (metrics) log.info(`metrics on ${metrics.url}/metrics`);
  // The ready line stays plain text in every log format: scripts and tests wait for it.
  process.stderr.write(`aggregating ${redactUrl(natsUrl)} → ${redactUrl(redisUrl)} (Ctrl-C stops)\n`);
  const { stats } = service.aggregator;
  let lastStatsLog = Date.now();
  const ticker = setInterval(() => {
    if (log.enabled("debug") && Date.now() - lastStatsLog >= 10_000) {
      lastStatsLog = Date.now();
      status.clear();
      log.debug("stats", { ...stats });
    }
    const forwarded = stats.forwarded ? ` · moved into partitions ${stats.forwarded}` : "";
    status.update(
      `partitions ${stats.partitions}/${PARTITIONS} · readings ${stats.readings} · batches ${stats.batches} (max ${stats.largestBatch}) · ignored ${stats.ignored} · dead letters ${stats.deadLetters}${forwarded}`,
    );
  }, 500);
  await untilSignal();
  clearInterval(ticker);
  status.clear();
  await metrics?.close();
  await service.stop();
  log.info(`stopped after ${stats.readings} readings`);
  return ExitCode.Ok;
}

import { PARTITIONS } from "../bus/names.js";
import { colorsFor, StatusLine } from "../cli/output.js";
import { untilSignal } from "../cli/signals.js";
import { resolveEndpoint } from "../config.js";
import { errorMessage } from "../errors.js";
import { redactUrl } from "../url.js";
import { startAggregation } from "../stack/services.js";

export interface AggregateFlags {
  readonly nats?: string;
  readonly redis?: string;
  readonly staleAfter: number;
  readonly retentionAge: number;
  readonly retentionBytes: number;
  readonly json?: boolean;
}

export async function runAggregate(flags: AggregateFlags): Promise<void> {
  const natsUrl = resolveEndpoint("nats", flags.nats);
  const redisUrl = resolveEndpoint("redis", flags.redis);
  const colors = colorsFor(process.stderr);
  const status = new StatusLine(process.stderr);
  const service = await startAggregation(natsUrl, redisUrl, {
    staleAfterMs: flags.staleAfter,
    retention: { maxAgeMs: flags.retentionAge, maxBytes: flags.retentionBytes },
    onAggregate: flags.json ? (aggregate) => process.stdout.write(`${JSON.stringify(aggregate)}\n`) : undefined,
    onError: (err) => {
      status.clear();
      process.stderr.write(`${colors.yellow("warning")} ${errorMessage(err)} (retrying)\n`);
    },
  });
  for (const change of service.changes) process.stderr.write(`${colors.dim(change)}\n`);
  process.stderr.write(`aggregating ${redactUrl(natsUrl)} → ${redactUrl(redisUrl)} (Ctrl-C stops)\n`);
  const { stats } = service.aggregator;
  const ticker = setInterval(() => {
    const forwarded = stats.forwarded ? ` · moved into partitions ${stats.forwarded}` : "";
    status.update(
      `partitions ${stats.partitions}/${PARTITIONS} · readings ${stats.readings} · batches ${stats.batches} (max ${stats.largestBatch}) · ignored ${stats.ignored} · dead letters ${stats.deadLetters}${forwarded}`,
    );
  }, 500);
  await untilSignal();
  clearInterval(ticker);
  status.clear();
  await service.stop();
  process.stderr.write(`stopped after ${stats.readings} readings\n`);
}

import type { LogLevel } from "../cli/log-levels.js";
import { createLogger } from "../cli/logger.js";
import { StatusLine } from "../cli/output.js";
import { untilSignal } from "../cli/signals.js";
import { resolveEndpoint, resolveSecurity, type SecurityFlags } from "../config/connection-settings.js";
import { ExitCode, errorMessage } from "../errors.js";
import { formatDuration } from "../domain/duration.js";
import { redactUrl } from "../url.js";
import { startArchiving } from "../app/archive.js";

export interface ArchiveFlags extends Omit<SecurityFlags, "redisTlsCa"> {
  readonly nats?: string;
  /** Default `.ecwatch/archive`. */
  readonly dir: string;
  /** Flush at least this often; default 10 s. */
  readonly flushEvery: number;
  /** Remove days that ended more than this long ago; default: keep them. */
  readonly retentionAge?: number;
  /** Default info. */
  readonly logLevel?: LogLevel;
}

export async function runArchive(flags: ArchiveFlags): Promise<ExitCode> {
  const natsUrl = resolveEndpoint("nats", flags.nats);
  const log = createLogger({ level: flags.logLevel });
  const status = new StatusLine(process.stderr);
  const service = await startArchiving(natsUrl, flags.dir, {
    security: resolveSecurity(flags),
    flushMs: flags.flushEvery,
    onError: (err) => {
      status.clear();
      log.warn(`${errorMessage(err)} (its readings come again)`);
    },
    days: {
      retentionMs: flags.retentionAge,
      onCompacted: ({ communityId, date, inputs }) => log.debug(`compacted ${communityId} ${date}: ${inputs.length} segments into one`),
      onExpired: ({ communityId, date }) => {
        status.clear();
        log.info(`removed ${communityId} ${date}: it ended more than ${formatDuration(flags.retentionAge!)} ago`);
      },
      onError: (err) => {
        status.clear();
        log.warn(`${errorMessage(err)} (the next compaction tries again)`);
      },
    },
  });
  if (service.created.length) log.info(`created consumers ${service.created.join(", ")}`);
  const { archiver } = service;
  const { stats } = archiver;
  let held = archiver.partitions.join(",");
  // The ready line stays plain text: scripts and tests wait for it.
  process.stderr.write(`archiving ${redactUrl(natsUrl)} → ${flags.dir} as archiver ${archiver.id}, partitions ${held || "none"} (Ctrl-C stops)\n`);
  const days = service.compactor.stats;
  const ticker = setInterval(() => {
    // Another archiver joined, stopped or died: the partitions are shared anew.
    if (archiver.partitions.join(",") !== held) {
      held = archiver.partitions.join(",");
      status.clear();
      log.info(`holds partitions ${held || "none"}`);
    }
    status.update(
      `partitions ${held || "none"} · archived ${stats.archived} · segments ${stats.segments} (${stats.bytes} bytes) · already stored ${stats.alreadyStored} · invalid ${stats.invalid} · days compacted ${days.compactions}, expired ${days.expired}, their quarter hours computed ${days.energy}`,
    );
  }, 500);
  await untilSignal();
  clearInterval(ticker);
  status.clear();
  await service.stop();
  log.info(`stopped after ${stats.archived} readings in ${stats.segments} segments`);
  return ExitCode.Ok;
}

import type { LogLevel } from "../cli/log-levels.js";
import { createLogger } from "../cli/logger.js";
import { untilSignal } from "../cli/signals.js";
import { type AccessFlags, accessFromFlags } from "../cli/api-access.js";
import { resolveEndpoint, resolveSecurity, type SecurityFlags } from "../config/connection-settings.js";
import { ExitCode, errorMessage } from "../errors.js";
import { runApiWorker, startApiPool } from "../app/api-pool.js";
import { type ApiOptions, startApi } from "../app/services.js";
import { isPoolWorker, type WorkerCount, workerCount } from "../stack/worker-pool.js";

export interface ServeFlags extends AccessFlags, SecurityFlags {
  readonly nats?: string;
  readonly redis?: string;
  readonly host: string;
  readonly port: number;
  /** Default info. */
  readonly logLevel?: LogLevel;
  /** Processes serving the API (issue 21); default auto: one per core. 1: this process alone. */
  readonly workers?: WorkerCount;
  /** The aggregator's `--stale-after`, for GET /communities/{id}/meters and a meter's history. */
  readonly staleAfter: number;
  /** The archive's directory, for GET /communities/{id}/meters/{meterId}/history; default `.ecwatch/archive`. */
  readonly archiveDir: string;
}

export async function runServe(flags: ServeFlags): Promise<ExitCode> {
  // Before connecting: an exposed API without a token is refused, not started.
  const access = accessFromFlags(flags);
  const log = createLogger({ level: flags.logLevel });
  const workers = workerCount(flags.workers ?? "auto");
  const nats = resolveEndpoint("nats", flags.nats);
  const redis = resolveEndpoint("redis", flags.redis);
  const options: ApiOptions = {
    security: resolveSecurity(flags),
    access,
    staleAfterMs: flags.staleAfter,
    archiveDir: flags.archiveDir,
    onServerError: (err, status) => log.error(`request failed: ${errorMessage(err)}`, { status }),
    onResponse: log.enabled("debug") ? (method, route, status) => log.debug("request", { method, route, status }) : undefined,
  };
  if (workers > 1 && isPoolWorker()) {
    await runApiWorker(nats, redis, flags.host, flags.port, workers, options);
    return ExitCode.Ok;
  }
  const api =
    workers > 1
      ? await startApiPool(workers, { onExit: ({ pid, code, signal, replaceInMs }) => log.warn(`API worker ${pid} exited (${signal ?? `code ${code}`}); replacing it in ${replaceInMs} ms`) })
      : await startApi(nats, redis, flags.host, flags.port, options);
  // The ready line stays plain text in every log format: scripts and tests wait for it.
  const processes = workers > 1 ? `${workers} workers, ` : "";
  process.stderr.write(`serving ${api.url} (${processes}GET /communities, /communities/{id}, /communities/{id}/stream, /communities/{id}/meters, /communities/{id}/meters/{meterId}/history; POST /communities/; described at /openapi.json) — Ctrl-C stops\n`);
  await untilSignal();
  await api.stop();
  log.info("stopped");
  return ExitCode.Ok;
}

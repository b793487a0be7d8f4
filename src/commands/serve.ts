import type { LogLevel } from "../cli/log-levels.js";
import { createLogger } from "../cli/logger.js";
import { untilSignal } from "../cli/signals.js";
import { type AccessFlags, accessFromFlags } from "../cli/api-access.js";
import { resolveEndpoint, resolveSecurity, type SecurityFlags } from "../config/connection-settings.js";
import { ExitCode, errorMessage } from "../errors.js";
import { startApi } from "../app/services.js";

export interface ServeFlags extends AccessFlags, SecurityFlags {
  readonly nats?: string;
  readonly redis?: string;
  readonly host: string;
  readonly port: number;
  /** Default info. */
  readonly logLevel?: LogLevel;
  /** The aggregator's `--stale-after`, for GET /communities/{id}/meters. */
  readonly staleAfter: number;
}

export async function runServe(flags: ServeFlags): Promise<ExitCode> {
  // Before connecting: an exposed API without a token is refused, not started.
  const access = accessFromFlags(flags);
  const log = createLogger({ level: flags.logLevel });
  const api = await startApi(resolveEndpoint("nats", flags.nats), resolveEndpoint("redis", flags.redis), flags.host, flags.port, {
    security: resolveSecurity(flags),
    access,
    staleAfterMs: flags.staleAfter,
    onServerError: (err, status) => log.error(`request failed: ${errorMessage(err)}`, { status }),
    onResponse: log.enabled("debug") ? (method, route, status) => log.debug("request", { method, route, status }) : undefined,
  });
  // The ready line stays plain text in every log format: scripts and tests wait for it.
  process.stderr.write(`serving ${api.url} (GET /communities, /communities/{id}, /communities/{id}/stream, /communities/{id}/meters; POST /communities/; described at /openapi.json) — Ctrl-C stops\n`);
  await untilSignal();
  await api.stop();
  log.info("stopped");
  return ExitCode.Ok;
}

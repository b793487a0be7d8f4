import type { ApiAccess } from "../api/access.js";
import { isLoopbackHost } from "../api/auth.js";
import { rateLimitOf } from "../api/rate-limit.js";
import { resolveToken, SECURITY_ENV_NAMES } from "../config/connection-settings.js";
import { UsageError } from "../errors.js";

/** The API flags of `serve` and `up` (issue 10). */
export interface AccessFlags {
  readonly host: string;
  readonly token?: string;
  /** POSTs per second per client address; null: off. */
  readonly rateLimit: number | "off";
  readonly rateBurst?: number;
  readonly cors?: readonly string[];
}

/**
 * What the API lets whom do. Refuses (exit 2) an address other than loopback without a token:
 * anyone who could reach it could publish readings into the pipeline.
 */
export function accessFromFlags(flags: AccessFlags, env: NodeJS.ProcessEnv = process.env): ApiAccess {
  const token = resolveToken(flags.token, env);
  if (!token && !isLoopbackHost(flags.host)) {
    throw new UsageError(
      `--host ${flags.host} is not a loopback address, so anyone who reaches it could publish readings: pass --token <token> (or set ${SECURITY_ENV_NAMES.token}).`,
      "Or keep the default --host 127.0.0.1, e.g. behind a proxy of your own.",
    );
  }
  return {
    ...(token && { token }),
    rateLimit: rateLimitOf(flags.rateLimit === "off" ? null : flags.rateLimit, flags.rateBurst),
    corsOrigins: flags.cors ?? [],
  };
}

import type { NatsSecurity } from "../nats/nats-auth.js";
import type { RedisSecurity } from "../redis/redis-cache.js";
import { runningStack, STATE_DIR } from "../stack/state-file.js";
import { DEFAULTS } from "./defaults.js";

export type Endpoint = keyof typeof DEFAULTS;
/** The services every stack has (MQTT is optional: `up --mqtt`). */
export type CoreEndpoint = Exclude<Endpoint, "mqtt">;
export const ENV_NAMES: Record<Endpoint, string> = { nats: "NATS_URL", redis: "REDIS_URL", api: "ECWATCH_API", mqtt: "MQTT_URL" };

/**
 * Where to reach a service: the flag, then the environment, then the state file of a
 * running `ecwatch up` in this directory, then the default.
 */
export function resolveEndpoint(
  endpoint: Endpoint,
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  stateDir: string = STATE_DIR,
): string {
  // An empty variable (NATS_URL=) counts as unset.
  return flag || env[ENV_NAMES[endpoint]] || runningStack(stateDir)?.[endpoint] || DEFAULTS[endpoint];
}

/** Variables of the settings that are secrets or point at them (issue 10); never in the state file. */
export const SECURITY_ENV_NAMES = {
  natsCreds: "NATS_CREDS",
  natsTlsCa: "NATS_TLS_CA",
  redisTlsCa: "REDIS_TLS_CA",
  token: "ECWATCH_TOKEN",
} as const;

/** Credentials and TLS of the NATS and Redis connections, besides what their URLs carry. */
export interface ConnectionSecurity {
  readonly nats: NatsSecurity;
  readonly redis: RedisSecurity;
}

export interface SecurityFlags {
  readonly natsCreds?: string;
  readonly natsTlsCa?: string;
  readonly redisTlsCa?: string;
}

/** The flag, then the environment; an empty value counts as unset. */
const flagOrEnv = (flag: string | undefined, env: NodeJS.ProcessEnv, name: string): string | undefined => flag || env[name] || undefined;

export function resolveSecurity(flags: SecurityFlags, env: NodeJS.ProcessEnv = process.env): ConnectionSecurity {
  const credsFile = flagOrEnv(flags.natsCreds, env, SECURITY_ENV_NAMES.natsCreds);
  const natsCa = flagOrEnv(flags.natsTlsCa, env, SECURITY_ENV_NAMES.natsTlsCa);
  const redisCa = flagOrEnv(flags.redisTlsCa, env, SECURITY_ENV_NAMES.redisTlsCa);
  return {
    nats: { ...(credsFile && { credsFile }), ...(natsCa && { tlsCaFile: natsCa }) },
    redis: { ...(redisCa && { tlsCaFile: redisCa }) },
  };
}

/** The environment that hands `security` to a child ecwatch (never the command line, which `ps` shows). */
export function securityEnv(security: ConnectionSecurity | undefined): Record<string, string> {
  return {
    ...(security?.nats.credsFile && { [SECURITY_ENV_NAMES.natsCreds]: security.nats.credsFile }),
    ...(security?.nats.tlsCaFile && { [SECURITY_ENV_NAMES.natsTlsCa]: security.nats.tlsCaFile }),
    ...(security?.redis.tlsCaFile && { [SECURITY_ENV_NAMES.redisTlsCa]: security.redis.tlsCaFile }),
  };
}

/** The API token of `serve` and `up`: `--token`, then ECWATCH_TOKEN. */
export function resolveToken(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return flagOrEnv(flag, env, SECURITY_ENV_NAMES.token);
}

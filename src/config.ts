import { runningStack, STATE_DIR } from "./stack/state-file.js";

export const DEFAULTS = {
  nats: "nats://127.0.0.1:4222",
  redis: "redis://127.0.0.1:6379",
  api: "http://127.0.0.1:8000",
  mqtt: "mqtt://127.0.0.1:1883",
} as const;

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

import type { Pingable, Readiness, UpstreamHealth } from "./ports.js";

/** How long a health check may take before its server counts as down (a NATS flush waits for a reconnect). */
export const HEALTH_TIMEOUT_MS = 2_000;

/** Whether `upstream` answers within `timeoutMs`. */
function answers(upstream: Pingable, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  return Promise.race([upstream.ping().then(() => true, () => false), late]).finally(() => clearTimeout(timer));
}

/** Readiness from pinging each upstream at once; one that fails or is late counts as down. */
export function pingReadiness(upstreams: { readonly [name in keyof UpstreamHealth]: Pingable }, timeoutMs = HEALTH_TIMEOUT_MS): Readiness {
  return {
    upstreams: async () => {
      const [nats, redis] = await Promise.all([answers(upstreams.nats, timeoutMs), answers(upstreams.redis, timeoutMs)]);
      return { nats, redis };
    },
  };
}

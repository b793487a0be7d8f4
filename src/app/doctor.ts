import type { ConnectionSecurity } from "../config/connection-settings.js";
import type { DoctorTargets } from "../doctor/checks.js";
import { NatsProbe } from "../nats/nats-probe.js";
import { RedisCache } from "../redis/redis-cache.js";
import { apiClientAt } from "./api-client.js";

/** What `ecwatch doctor` looks through: NATS, Redis and the HTTP API client, each at the URL it checks. */
export function doctorProbes(security?: ConnectionSecurity): Pick<DoctorTargets, "busAt" | "cacheAt" | "apiAt"> {
  return {
    busAt: (url) => NatsProbe.connect(url, "ecwatch-doctor", security?.nats),
    cacheAt: (url) => RedisCache.connect(url, security?.redis),
    apiAt: (url) => apiClientAt(url),
  };
}

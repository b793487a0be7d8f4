import { Option } from "commander";
import { DEFAULTS } from "../config/connection-settings.js";
import { LOG_LEVELS } from "./logger.js";
import { collectOrigins, communityId, duration, integer, oneOf, rate, url } from "./options.js";

/** Options that several commands share, as data: each call makes a fresh Option for one command. */

export const natsOption = (): Option => new Option("--nats <url>", `NATS server URL(s), comma-separated (env NATS_URL; default: a running \`ecwatch up\`, else ${DEFAULTS.nats})`).argParser(url(["nats", "tls"]));
export const redisOption = (): Option => new Option("--redis <url>", `Redis URL (env REDIS_URL; default: a running \`ecwatch up\`, else ${DEFAULTS.redis})`).argParser(url(["redis", "rediss"]));
export const apiOption = (): Option => new Option("--api <url>", `API base URL (env ECWATCH_API; default: a running \`ecwatch up\`, else ${DEFAULTS.api})`).argParser(url(["http", "https"]));
export const logLevelOption = (): Option =>
  new Option("--log-level <level>", `what to log on stderr: ${LOG_LEVELS.join(", ")} (JSON lines when stderr is not a terminal, readable lines on one)`).argParser(oneOf(LOG_LEVELS)).default("info");
/** Credentials and TLS of NATS and Redis (issue 10): every command with --nats / --redis takes them, see buildProgram. */
export const natsCredsOption = (): Option => new Option("--nats-creds <file>", "NATS credentials: a .creds file (user JWT and seed) or an nkey seed file (env NATS_CREDS)");
export const natsTlsCaOption = (): Option => new Option("--nats-tls-ca <file>", "CA certificate(s) of the NATS servers, PEM; turns TLS on, as a tls:// URL does (env NATS_TLS_CA)");
export const redisTlsCaOption = (): Option => new Option("--redis-tls-ca <file>", "CA certificate(s) of the Redis server, PEM; turns TLS on, as a rediss:// URL does (env REDIS_TLS_CA)");
/** Who may use the API of serve and up (issue 10). */
export const tokenOption = (): Option => new Option("--token <token>", "POSTs must send Authorization: Bearer <token>; needed when --host is not loopback (env ECWATCH_TOKEN, better: a flag shows in ps)");
export const rateLimitOption = (): Option => new Option("--rate-limit <rate>", "POSTs per client address, e.g. 100/s, 6000/m, or off").argParser(rate).default(100, "100/s");
export const rateBurstOption = (): Option => new Option("--rate-burst <n>", "POSTs a client may send at once (default: two seconds' worth of --rate-limit)").argParser(integer(1, 10_000_000));
export const corsOption = (): Option => new Option("--cors <origins>", "let web pages of these origins call the API: comma-separated or repeated, * for any (default: CORS off)").argParser(collectOrigins);
export const staleOption = (): Option => new Option(
    "--stale-after <duration>",
    "the floor of a meter's tolerance: a reading holds until its meter's next one, for up to the meter's cadence (declared intervalMs, or the median of its last 5 gaps) plus half a cadence, at least this (data time); a meter silent for longer leaves the totals and the energy and counts as stale",
  ).argParser(duration()).default(30_000, "30s");

/** Collects a repeatable --community into a list of valid ids. */
export function collectCommunity(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), communityId(value)];
}

/** The "Examples:" section of a command's help. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join("\n")}\n`;
}

import { DEFAULTS } from "../config/defaults.js";
import { DEFAULT_ARCHIVE_DIR } from "../wire/archive-layout.js";
import type { SecurityFlags } from "../config/connection-settings.js";
import { LOG_LEVELS, type LogLevel } from "./log-levels.js";
import { durationFlag, type FlagSpec, type OptionTable } from "./option-table.js";
import { collectOrigins, communityId, integer, oneOf, rate, url } from "./options.js";

/** Entries that several commands' option tables share (cli/option-table.ts). */

export const natsFlag: FlagSpec<string> = { flags: "--nats <url>", description: `NATS server URL(s), comma-separated (env NATS_URL; default: a running \`ecwatch up\`, else ${DEFAULTS.nats})`, parse: url(["nats", "tls"]) };
export const redisFlag: FlagSpec<string> = { flags: "--redis <url>", description: `Redis URL (env REDIS_URL; default: a running \`ecwatch up\`, else ${DEFAULTS.redis})`, parse: url(["redis", "rediss"]) };
export const apiFlag: FlagSpec<string> = { flags: "--api <url>", description: `API base URL (env ECWATCH_API; default: a running \`ecwatch up\`, else ${DEFAULTS.api})`, parse: url(["http", "https"]) };
/** The archive's folder: where `archive` writes and `query` and `export` read (issue 22). */
export const archiveDirFlag: FlagSpec<string> = { flags: "--dir <path>", description: "the archive's directory", default: DEFAULT_ARCHIVE_DIR };
/** The archive that `query` and `export` read: resolved at run time (resolveArchiveDir). */
export const archiveReadDirFlag: FlagSpec<string> = { flags: "--dir <path>", description: `the archive's directory (default: the running ecwatch up's archive, else ${DEFAULT_ARCHIVE_DIR})` };
export const logLevelFlag: FlagSpec<LogLevel> = {
  flags: "--log-level <level>",
  description: `what to log on stderr: ${LOG_LEVELS.join(", ")} (JSON lines when stderr is not a terminal, readable lines on one)`,
  parse: oneOf(LOG_LEVELS),
  default: "info",
};

/** Credentials and TLS of NATS (issue 10): every command with --nats takes them. */
export const natsSecurityFlags: OptionTable<Pick<SecurityFlags, "natsCreds" | "natsTlsCa">> = {
  natsCreds: { flags: "--nats-creds <file>", description: "NATS credentials: a .creds file (user JWT and seed) or an nkey seed file (env NATS_CREDS)" },
  natsTlsCa: { flags: "--nats-tls-ca <file>", description: "CA certificate(s) of the NATS servers, PEM; turns TLS on, as a tls:// URL does (env NATS_TLS_CA)" },
};
/** The same of Redis: every command with --redis takes it. */
export const redisSecurityFlags: OptionTable<Pick<SecurityFlags, "redisTlsCa">> = {
  redisTlsCa: { flags: "--redis-tls-ca <file>", description: "CA certificate(s) of the Redis server, PEM; turns TLS on, as a rediss:// URL does (env REDIS_TLS_CA)" },
};

/** Who may use the API of serve and up (issue 10). */
export const tokenFlag: FlagSpec<string> = { flags: "--token <token>", description: "POSTs must send Authorization: Bearer <token>; needed when --host is not loopback (env ECWATCH_TOKEN, better: a flag shows in ps)" };
export const rateLimitFlag: FlagSpec<number | "off"> = { flags: "--rate-limit <rate>", description: "POSTs per client address, e.g. 100/s, 6000/m, or off", parse: rate, default: 100, defaultText: "100/s" };
export const rateBurstFlag: FlagSpec<number> = { flags: "--rate-burst <n>", description: "POSTs a client may send at once (default: two seconds' worth of --rate-limit)", parse: integer(1, 10_000_000) };
export const corsFlag: FlagSpec<readonly string[]> = { flags: "--cors <origins>", description: "let web pages of these origins call the API: comma-separated or repeated, * for any (default: CORS off)", parse: collectOrigins };
export const staleAfterFlag: FlagSpec<number> = durationFlag(
  "--stale-after <duration>",
  "the floor of a meter's tolerance: a reading holds until its meter's next one, for up to the meter's cadence (declared intervalMs, or the median of its last 5 gaps) plus half a cadence, at least this (data time); a meter silent for longer leaves the totals and the energy and counts as stale",
  { default: 30_000 },
);

/** The archive the API reads a meter's history from (issue 23): serve. */
export const apiArchiveDirFlag: FlagSpec<string> = {
  flags: "--archive-dir <path>",
  description: "the directory `ecwatch archive` writes: GET /communities/{id}/meters/{meterId}/history reads the meters' readings there",
  default: DEFAULT_ARCHIVE_DIR,
};

/** Collects a repeatable --community into a list of valid ids. */
export function collectCommunity(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), communityId(value)];
}

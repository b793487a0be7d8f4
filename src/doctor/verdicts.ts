import { ENV_NAMES, type CoreEndpoint } from "../config/connection-settings.js";
import { installHint, type ServerProgram } from "../stack/binaries.js";
import type { StackState } from "../stack/state-file.js";
import type { ConnectFailure } from "../connect-failure.js";
import { redactUrl } from "../url.js";

/** The verdicts of `ecwatch doctor`: pure decisions on what the probes found, tested without servers. */

export type CheckStatus = "ok" | "warn" | "fail";

/** One line of `ecwatch doctor`: data, so that the command decides how it is shown. */
export interface Check {
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
  /** One sentence saying exactly what to run. */
  readonly fix?: string;
  /** The figures behind the detail, for `--json` (the dead letters by kind). */
  readonly counts?: Readonly<Record<string, number>>;
}

/** Where an endpoint's URL came from, which decides how loudly an unreachable one is reported. */
export type EndpointSource = "flag" | "env" | "stack" | "default";

export interface Target {
  readonly url: string;
  readonly source: EndpointSource;
}

export const LOOPBACK = "127.0.0.1";

/** How each service is named, pointed at and started. */
export const SERVICES = {
  nats: { label: "NATS", flag: "--nats", env: ENV_NAMES.nats, port: 4222, start: (host: string, port: number) => `nats-server -js -a ${host} -p ${port}` },
  redis: { label: "Redis", flag: "--redis", env: ENV_NAMES.redis, port: 6379, start: (host: string, port: number) => `redis-server --bind ${host} --port ${port}` },
  api: { label: "API", flag: "--api", env: ENV_NAMES.api, port: 8000, start: (host: string, port: number) => `ecwatch serve --host ${host} --port ${port}` },
} as const satisfies Record<CoreEndpoint, unknown>;

/** Features nats-server 2.9 (Debian bookworm's) silently ignores; ecwatch works without them. */
const NATS_FEATURES_VERSION = "2.10.0";
const MIN_NODE_VERSION = "20.0.0";


/** Compares dotted versions numerically ("2.9.10" < "2.10.0"); a leading "v" and a suffix are ignored. */
export function compareVersions(a: string, b: string): number {
  const parts = (version: string) => (/(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(version) ?? []).slice(1, 4).map((n) => Number(n ?? 0));
  const [left, right] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff) return Math.sign(diff);
  }
  return 0;
}

export function nodeCheck(version: string): Check {
  return compareVersions(version, MIN_NODE_VERSION) >= 0
    ? { name: "node", status: "ok", detail: `v${version}` }
    : { name: "node", status: "fail", detail: `v${version}; ecwatch needs Node 20 or newer`, fix: "Install Node.js 20 or newer, e.g. with `nvm install 20`." };
}

/** What a nats-server before 2.10 lacks, or undefined when it has everything (or is unknown). */
export function natsVersionNote(version: string | undefined): string | undefined {
  if (!version || compareVersions(version, NATS_FEATURES_VERSION) >= 0) return undefined;
  return "before 2.10: multiple filter subjects per consumer, stream subject transforms, compression and per-message TTL are silently ignored";
}

/**
 * A server program on PATH. Missing is a failure only when `ecwatch up` would have to
 * start it, i.e. nobody pointed ecwatch at a server of that kind and none answers.
 */
export function binaryCheck(program: ServerProgram, path: string | undefined, version: string | undefined, needed: boolean): Check {
  if (!path) {
    return { name: program, status: needed ? "fail" : "warn", detail: "not installed; `ecwatch up` needs it to start a local server", fix: installHint(program) };
  }
  const note = program === "nats-server" ? natsVersionNote(version) : undefined;
  return { name: program, status: "ok", detail: `${version ?? "version unknown"} at ${path}${note ? ` (${note})` : ""}` };
}

export function endpointSource(endpoint: CoreEndpoint, flag: string | undefined, env: NodeJS.ProcessEnv, stack: StackState | undefined): EndpointSource {
  if (flag !== undefined) return "flag";
  if (env[SERVICES[endpoint].env] !== undefined) return "env";
  return stack ? "stack" : "default";
}

/** Host and port of a URL (the first of a comma-separated list), or undefined when it does not parse. */
export function hostPort(url: string, defaultPort: number): { host: string; port: number } | undefined {
  try {
    const parsed = new URL(url.split(",")[0] ?? "");
    const port = Number(parsed.port) || (parsed.protocol === "https:" ? 443 : parsed.protocol === "http:" ? 80 : defaultPort);
    return { host: parsed.hostname, port };
  } catch {
    return undefined;
  }
}

/** Whether a running `ecwatch up` serves one of its endpoints on this loopback port. */
export function stackOwnsPort(stack: StackState, port: number): boolean {
  return (Object.keys(SERVICES) as CoreEndpoint[]).some((endpoint) => {
    const where = hostPort(stack[endpoint], SERVICES[endpoint].port);
    return where?.port === port && (where.host === LOOPBACK || where.host === "localhost");
  });
}

export function portCheck(endpoint: CoreEndpoint, free: boolean, stack: StackState | undefined): Check {
  const port = SERVICES[endpoint].port;
  const name = `port ${port}`;
  if (free) return { name, status: "ok", detail: `${LOOPBACK}:${port} is free` };
  if (stack && stackOwnsPort(stack, port)) return { name, status: "ok", detail: `in use by the running \`ecwatch up\` (pid ${stack.pid})` };
  if (endpoint === "api") {
    return { name, status: "warn", detail: "in use, not by a running `ecwatch up`", fix: `Run \`ecwatch up --port 8080\` (any free port), or stop the program that listens on ${port}.` };
  }
  return { name, status: "warn", detail: "in use, not by a running `ecwatch up`; `ecwatch up` will pick a free port instead" };
}

/**
 * Whether an unreachable service is a failure: yes when the user pointed at it, a stack is
 * running, or part of a stack answers; on a machine where nothing runs yet it is only a hint.
 */
export function expectRunning(sources: readonly EndpointSource[], anyReachable: boolean): boolean {
  return anyReachable || sources.some((source) => source !== "default");
}

/** `failure` is why the connection failed, told from the client's error by connectFailure. */
export function unreachableCheck(endpoint: CoreEndpoint, target: Target, expected: boolean, reason: string, failure: ConnectFailure = "unreachable"): Check {
  const service = SERVICES[endpoint];
  // It answers, but refuses the credentials or the TLS handshake (issue 10): starting it is not the fix.
  const refused = endpoint === "api" ? undefined : refusedCheck(endpoint, target, reason, failure);
  if (refused) return refused;
  const detail = `cannot reach ${redactUrl(target.url)}${reason ? ` (${reason})` : ""}`;
  if (!expected) return { name: service.label, status: "warn", detail, fix: "Start the stack with `ecwatch up`." };
  if (target.source === "stack") {
    return { name: service.label, status: "fail", detail, fix: "Restart the stack: stop `ecwatch up` with Ctrl-C and run `ecwatch up` again." };
  }
  const where = hostPort(target.url, service.port);
  const start = where
    ? `Run \`${service.start(where.host, where.port)}\`${where.host === LOOPBACK || where.host === "localhost" ? "" : ` on ${where.host}`}`
    : `Start ${service.label}`;
  const repoint = target.source === "env" ? `correct ${service.env}` : `pass the right \`${service.flag} <url>\``;
  return { name: service.label, status: "fail", detail, fix: `${start}, or ${repoint}.` };
}

function refusedCheck(endpoint: "nats" | "redis", target: Target, reason: string, failure: ConnectFailure): Check | undefined {
  if (failure === "unreachable") return undefined;
  const service = SERVICES[endpoint];
  const detail = `${redactUrl(target.url)} refused the ${failure === "auth" ? "credentials" : "TLS connection"} (${reason})`;
  const fix =
    failure === "auth"
      ? `Give the credentials in the URL (${service.flag} or ${service.env}; .ecwatch/state.json holds none)${endpoint === "nats" ? ", or a credentials file with --nats-creds / NATS_CREDS" : ""}.`
      : `Pass the CA of its certificate with ${endpoint === "nats" ? "--nats-tls-ca / NATS_TLS_CA" : "--redis-tls-ca / REDIS_TLS_CA"}, and use the name or address the certificate is for.`;
  return { name: service.label, status: "fail", detail, fix };
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${+value.toFixed(1)} ${units[unit]}`;
}

/** Which upstreams a 503 from /healthz (`{"status":"degraded","nats":true,"redis":false}`) says are down. */
export function degradedDetail(body: string): string {
  try {
    const health = JSON.parse(body) as Record<string, unknown>;
    const down = ["nats", "redis"].filter((upstream) => health[upstream] === false);
    if (down.length) return `its ${down.map((upstream) => SERVICES[upstream as CoreEndpoint].label).join(" and ")} connection${down.length > 1 ? "s are" : " is"} down`;
  } catch {
    // not the JSON ecwatch's API sends: show what it said
  }
  return body.slice(0, 200) || "no details";
}

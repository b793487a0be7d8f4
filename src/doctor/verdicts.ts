import type { ConsumerConfig, ConsumerInfo, StreamConfig, StreamState } from "@nats-io/jetstream";
import { type ForeignConsumer, foreignConsumerNotice, isPrototypeAggregator } from "../wire/foreign-consumers.js";
import {
  AGGREGATOR_CONSUMERS,
  DEAD_LETTER_KINDS,
  DLQ_STREAM,
  DLQ_SUBJECTS,
  type DeadLetterKind,
  LATEST_BUCKET,
  PARTITIONS,
  STATE_BUCKET,
  STRAYS_CONSUMER,
  STREAM,
  STREAM_SUBJECTS,
  deadLetterSubject,
} from "../wire/names.js";
import { ENV_NAMES, type CoreEndpoint } from "../config/connection-settings.js";
import { formatDuration } from "../domain/duration.js";
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

const NANOS_PER_MS = 1_000_000;
const CREATED_BY_AGGREGATE = "Run `ecwatch aggregate` (or `ecwatch up`), which creates it.";

export type StreamView = { readonly config: Pick<StreamConfig, "subjects" | "max_age" | "max_bytes">; readonly state: Pick<StreamState, "messages" | "bytes"> };

/** EC_STREAM must hold exactly both reading levels and keep bounded history. */
export function streamCheck(stream: StreamView | undefined): Check {
  const name = `stream ${STREAM}`;
  if (!stream) return { name, status: "warn", detail: "does not exist yet", fix: CREATED_BY_AGGREGATE };
  const subjects = [...(stream.config.subjects ?? [])].sort();
  if (subjects.join() !== [...STREAM_SUBJECTS].sort().join()) {
    return {
      name,
      status: "fail",
      detail: `holds ${JSON.stringify(subjects)} instead of ${JSON.stringify(STREAM_SUBJECTS)}`,
      fix: "Run `ecwatch aggregate` (or `ecwatch up`), which updates the stream's subjects on start.",
    };
  }
  const { max_age: maxAge, max_bytes: maxBytes } = stream.config;
  const contents = `${stream.state.messages} readings, ${formatBytes(stream.state.bytes)}`;
  const unlimited = [maxAge > 0 ? "" : "age", maxBytes > 0 ? "" : "size"].filter(Boolean);
  if (unlimited.length) {
    return {
      name,
      status: "warn",
      detail: `no ${unlimited.join(" or ")} limit, so it grows without bound (${contents})`,
      fix: "Run `ecwatch aggregate` (or `ecwatch up`), which sets the retention limits on start.",
    };
  }
  return { name, status: "ok", detail: `${contents}; keeps ${formatDuration(maxAge / NANOS_PER_MS)} / ${formatBytes(maxBytes)}` };
}

export type ConsumerView = Pick<ConsumerInfo, "num_pending" | "num_ack_pending"> & {
  readonly config: Pick<ConsumerConfig, "deliver_subject">;
};

/**
 * The aggregator's consumers (one per partition stream, and agg-strays of EC_STREAM), by name;
 * undefined where missing. A backlog on agg-strays means readings arrive unpartitioned:
 * nats-server lacks the mapping.
 */
export function consumerCheck(consumers: Readonly<Record<string, ConsumerView | undefined>>): Check {
  const name = "aggregator consumers";
  const missing = AGGREGATOR_CONSUMERS.filter(({ name: consumer }) => !consumers[consumer]).map(({ name: consumer }) => consumer);
  if (missing.length) return { name, status: "warn", detail: `${missing.join(", ")} missing`, fix: CREATED_BY_AGGREGATE };
  const push = AGGREGATOR_CONSUMERS.filter(({ name: consumer }) => consumers[consumer]!.config.deliver_subject);
  if (push.length) {
    return {
      name,
      status: "warn",
      detail: `${push.map(({ name: consumer }) => consumer).join(", ")}: push instead of pull`,
      fix: "Run `ecwatch aggregate`, which replaces them with pull consumers.",
    };
  }
  const all = AGGREGATOR_CONSUMERS.map(({ name: consumer }) => consumers[consumer]!);
  const lag = all.reduce((sum, consumer) => sum + consumer.num_pending, 0);
  const awaiting = all.reduce((sum, consumer) => sum + consumer.num_ack_pending, 0);
  const detail = `${PARTITIONS} partitions; lag ${lag}, awaiting ack ${awaiting}`;
  const strays = consumers[STRAYS_CONSUMER]!;
  if (strays.num_pending + strays.num_ack_pending > 0) {
    return {
      name,
      status: "warn",
      detail: `${detail}; ${strays.num_pending + strays.num_ack_pending} readings stored unpartitioned`,
      fix: "Add ecwatch's `mappings` to nats-server's config (docs/operating.md, \"Running on a NATS cluster\"); until then the aggregator moves them into their partitions.",
    };
  }
  return { name, status: "ok", detail };
}

export type CountView = { readonly state: Pick<StreamState, "messages"> };

/** A KV bucket: a stream the aggregator creates, reported with how much it holds. */
export function ownedStreamCheck(name: string, stream: CountView | undefined, what: string): Check {
  if (!stream) return { name, status: "warn", detail: "does not exist yet", fix: CREATED_BY_AGGREGATE };
  return { name, status: "ok", detail: `${stream.state.messages} ${what}` };
}

export type DeadLetterView = {
  readonly config: Pick<StreamConfig, "subjects">;
  /** `subjects`: the messages per subject (asked with a subjects filter). */
  readonly state: Pick<StreamState, "messages" | "subjects">;
};

/**
 * EC_DLQ, with its dead letters by kind (the last token of their subject). Those whose subject is
 * not a reading subject are a device or publisher writing under `ec.` where no reading goes
 * (e.g. an MQTT topic with a level too many): a warning, as none of them is aggregated.
 */
export function deadLetterCheck(dlq: DeadLetterView | undefined): Check {
  const name = `stream ${DLQ_STREAM}`;
  if (!dlq) return { name, status: "warn", detail: "does not exist yet", fix: CREATED_BY_AGGREGATE };
  const subjects = [...(dlq.config.subjects ?? [])].sort();
  if (subjects.join() !== [...DLQ_SUBJECTS].sort().join()) {
    return {
      name,
      status: "warn",
      detail: `${dlq.state.messages} dead letters; holds ${JSON.stringify(subjects)} instead of ${JSON.stringify(DLQ_SUBJECTS)} (ecwatch before issue 18)`,
      fix: "Run `ecwatch aggregate` (or `ecwatch up`), which moves the dead letters' subject on start.",
    };
  }
  const counts = Object.fromEntries(DEAD_LETTER_KINDS.map((kind) => [kind, dlq.state.subjects?.[deadLetterSubject(kind)] ?? 0])) as Record<DeadLetterKind, number>;
  const detail = `${dlq.state.messages} dead letters: ${counts.subject} not on a reading subject, ${counts.reading} not a valid reading`;
  if (counts.subject > 0) {
    return {
      name,
      status: "warn",
      detail: `${detail} — something publishes under ec. (MQTT ec/) where no reading goes`,
      fix: `See their subjects and reasons with \`nats stream view ${DLQ_STREAM}\`, and point the device at ec/<communityId>/meter/<meterId> (docs/mqtt.md).`,
      counts,
    };
  }
  return { name, status: "ok", detail, counts };
}

/**
 * A durable consumer of the reading streams that ecwatch did not create (issue 18). The
 * prototype's `agg-worker` is a problem: its aggregator writes `ec_latest` and Redis, fighting
 * ecwatch's. Any other is a warning: it may only read.
 */
export function foreignConsumerCheck(consumer: ForeignConsumer): Check {
  const { detail, fix } = foreignConsumerNotice(consumer, false);
  return { name: `consumer ${consumer.name}`, status: isPrototypeAggregator(consumer) ? "fail" : "warn", detail, fix };
}

/** What exists of the JetStream resources ecwatch uses; undefined where missing. */
export interface Topology {
  readonly stream: StreamView | undefined;
  readonly consumers: Readonly<Record<string, ConsumerView | undefined>>;
  /** The reading streams' consumers that are not ecwatch's. */
  readonly foreign: readonly ForeignConsumer[];
  readonly latest: CountView | undefined;
  readonly state: CountView | undefined;
  readonly dlq: DeadLetterView | undefined;
}

/** One line per resource, or a single line when nothing was created yet (a fresh server). */
export function topologyChecks(topology: Topology): Check[] {
  const { stream, consumers, latest, state, dlq, foreign } = topology;
  if (!stream && !latest && !state && !dlq) {
    const names = [STREAM, "its consumers", LATEST_BUCKET, STATE_BUCKET, DLQ_STREAM].join(", ");
    return [{ name: "resources", status: "warn", detail: `none created yet (${names})`, fix: "Run `ecwatch aggregate` (or `ecwatch up`), which creates them." }];
  }
  return [
    streamCheck(stream),
    // Without the stream the consumers cannot exist; the stream's line already says what to run.
    ...(stream ? [consumerCheck(consumers)] : []),
    ...foreign.map(foreignConsumerCheck),
    ownedStreamCheck(`KV ${LATEST_BUCKET}`, latest, "keys"),
    ownedStreamCheck(`KV ${STATE_BUCKET}`, state, "keys"),
    deadLetterCheck(dlq),
  ];
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

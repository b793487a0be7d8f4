import type { ForeignConsumer } from "../wire/foreign-consumers.js";
import { AGGREGATOR_CONSUMERS, DLQ_STREAM, LATEST_BUCKET, READING_STREAMS, STATE_BUCKET } from "../wire/names.js";
import { type ConnectFailure, connectFailure } from "../connect-failure.js";
import { errorMessage } from "../errors.js";
import { redactUrl } from "../url.js";
import { type Check, degradedDetail, formatBytes } from "./verdicts.js";
import { type ConsumerView, type StreamView, type DeadLetterView, topologyChecks } from "./topology-verdicts.js";

/**
 * The I/O edge of `ecwatch doctor`: each probe connects, looks, and closes what it opened.
 * What it connects with are ports of doctor's own, built in app/ (issue 16), so these are
 * tested with hand-written fakes (test/unit/doctor-probes.test.ts).
 */

/** What doctor needs of the bus: who answers, and what JetStream holds (nats/nats-probe.ts implements it). */
export interface BusProbe {
  /** The version the server introduced itself with. */
  readonly serverVersion: string | undefined;
  /** Rejects when the server has no JetStream. */
  jetStream(): Promise<JetStreamProbe>;
  close(): Promise<void>;
}

/** JetStream's account and the resources ecwatch uses, each undefined when it does not exist. */
export interface JetStreamProbe {
  account(): Promise<{ readonly streams: number; readonly consumers: number; readonly storage: number }>;
  /** With `subjectsFilter`, its state also counts the messages per subject matching it. */
  stream(name: string, subjectsFilter?: string): Promise<(StreamView & DeadLetterView) | undefined>;
  consumer(stream: string, name: string): Promise<ConsumerView | undefined>;
  /** The reading streams' durable consumers that are not ecwatch's aggregator's (issue 18). */
  foreignConsumers(): Promise<ForeignConsumer[]>;
}

/** What doctor needs of the cache: the version of the server that answers (RedisCache implements it). */
export interface CacheProbe {
  serverVersion(): Promise<string | undefined>;
  close(): Promise<void>;
}

/** Connects to the bus or the cache at a URL; rejects when that fails, the `cause` saying why (e.g. ECONNREFUSED). */
export type Connect<T> = () => Promise<T>;

export type Probe =
  | { readonly reachable: false; readonly reason: string; readonly failure: ConnectFailure }
  | {
      readonly reachable: true;
      readonly version?: string;
      /** Replaces the "reachable" line when the service answers but is not healthy. */
      readonly unhealthy?: Check;
      /** Further checks, possible only once connected. */
      readonly checks: readonly Check[];
    };

/** The cause says why (e.g. ECONNREFUSED); the wrapping EcwatchError only repeats the URL. */
const unreachable = (err: unknown): Probe => ({
  reachable: false,
  reason: errorMessage(err instanceof Error && err.cause !== undefined ? err.cause : err),
  failure: connectFailure(err),
});

async function jetStreamChecks(bus: BusProbe): Promise<Check[]> {
  let js: JetStreamProbe;
  try {
    js = await bus.jetStream();
  } catch (err) {
    return [{ name: "JetStream", status: "fail", detail: `not available: ${errorMessage(err)}`, fix: "Restart nats-server with `-js` (ecwatch up does)." }];
  }
  try {
    const account = await js.account();
    const checks: Check[] = [
      { name: "JetStream", status: "ok", detail: `${account.streams} streams, ${account.consumers} consumers, ${formatBytes(account.storage)} stored` },
    ];
    const [stream, ...partitions] = await Promise.all(READING_STREAMS.map((name) => js.stream(name)));
    checks.push(
      ...topologyChecks({
        // EC_STREAM's settings, with what all reading streams hold together.
        stream: stream && {
          config: stream.config,
          state: [stream, ...partitions].reduce((sum, each) => ({ messages: sum.messages + (each?.state.messages ?? 0), bytes: sum.bytes + (each?.state.bytes ?? 0) }), { messages: 0, bytes: 0 }),
        },
        consumers: stream ? Object.fromEntries(await Promise.all(AGGREGATOR_CONSUMERS.map(async ({ stream: of, name }) => [name, await js.consumer(of, name)]))) : {},
        latest: await js.stream(`KV_${LATEST_BUCKET}`),
        state: await js.stream(`KV_${STATE_BUCKET}`),
        dlq: await js.stream(DLQ_STREAM, ">"),
        foreign: await js.foreignConsumers(),
      }),
    );
    return checks;
  } catch (err) {
    return [{ name: "JetStream", status: "fail", detail: `request failed: ${errorMessage(err)}`, fix: "Run `ecwatch doctor` again; if it fails again, read the nats-server log." }];
  }
}

export async function probeNats(connect: Connect<BusProbe>): Promise<Probe> {
  let bus: BusProbe;
  try {
    bus = await connect();
  } catch (err) {
    return unreachable(err);
  }
  try {
    return { reachable: true, version: bus.serverVersion, checks: await jetStreamChecks(bus) };
  } finally {
    await bus.close();
  }
}

export async function probeRedis(connect: Connect<CacheProbe>): Promise<Probe> {
  let cache: CacheProbe;
  try {
    cache = await connect();
  } catch (err) {
    return unreachable(err);
  }
  try {
    return { reachable: true, version: await cache.serverVersion(), checks: [] };
  } finally {
    await cache.close();
  }
}

const API_TIMEOUT_MS = 2_000;

/** What doctor needs of the API: its /healthz answer (the HTTP API client satisfies it). */
export interface ApiHealth {
  /** Rejects when nothing answers; `cause` says why (e.g. ECONNREFUSED). */
  healthz(options: { readonly timeoutMs: number }): Promise<{ readonly status: number; readonly body: string }>;
}

/** `url` is where `api` asks, for the report. */
export async function probeApi(url: string, api: ApiHealth): Promise<Probe> {
  let answer: { readonly status: number; readonly body: string };
  try {
    answer = await api.healthz({ timeoutMs: API_TIMEOUT_MS });
  } catch (err) {
    return unreachable(err);
  }
  const { status, body } = answer;
  if (status >= 200 && status < 300) return { reachable: true, checks: [] };
  // It answers but is not healthy: a failure whatever the source.
  const unhealthy: Check =
    status === 503
      ? { name: "API", status: "fail", detail: `${redactUrl(url)} is degraded: ${degradedDetail(body)}`, fix: "Make the API's NATS and Redis reachable again; it reconnects by itself." }
      : { name: "API", status: "fail", detail: `${redactUrl(url)}/healthz answers ${status}; is it an ecwatch API?`, fix: "Pass the URL of `ecwatch serve` with `--api <url>`." };
  return { reachable: true, unhealthy, checks: [] };
}

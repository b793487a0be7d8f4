import type { NatsConnection } from "@nats-io/transport-node";
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager, type ConsumerInfo, type JetStreamManager, type StreamInfo } from "@nats-io/jetstream";
import { AGGREGATOR_CONSUMERS, DLQ_STREAM, LATEST_BUCKET, READING_STREAMS, STATE_BUCKET } from "../wire/names.js";
import { connectNats } from "../nats/connect.js";
import { RedisCache, type RedisSecurity } from "../redis/redis-cache.js";
import type { NatsSecurity } from "../nats/nats-auth.js";
import { type ConnectFailure, connectFailure } from "../connect-failure.js";
import { errorMessage } from "../errors.js";
import { redactUrl } from "../url.js";
import { type Check, degradedDetail, formatBytes, infoField, topologyChecks } from "./verdicts.js";

/** The I/O edge of `ecwatch doctor`: each probe connects, looks, and closes what it opened. */


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

function isNotFound(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

async function findStream(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (isNotFound(err, JetStreamApiCodes.StreamNotFound)) return undefined;
    throw err;
  }
}

async function findConsumer(jsm: JetStreamManager, stream: string, name: string): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(stream, name);
  } catch (err) {
    // A partition stream not created yet has no consumer either.
    if (isNotFound(err, JetStreamApiCodes.ConsumerNotFound) || isNotFound(err, JetStreamApiCodes.StreamNotFound)) return undefined;
    throw err;
  }
}

async function jetStreamChecks(nc: NatsConnection): Promise<Check[]> {
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc);
  } catch (err) {
    return [{ name: "JetStream", status: "fail", detail: `not available: ${errorMessage(err)}`, fix: "Restart nats-server with `-js` (ecwatch up does)." }];
  }
  try {
    const account = await jsm.getAccountInfo();
    const checks: Check[] = [
      { name: "JetStream", status: "ok", detail: `${account.streams} streams, ${account.consumers} consumers, ${formatBytes(account.storage)} stored` },
    ];
    const [stream, ...partitions] = await Promise.all(READING_STREAMS.map((name) => findStream(jsm, name)));
    checks.push(
      ...topologyChecks({
        // EC_STREAM's settings, with what all reading streams hold together.
        stream: stream && {
          config: stream.config,
          state: [stream, ...partitions].reduce((sum, each) => ({ messages: sum.messages + (each?.state.messages ?? 0), bytes: sum.bytes + (each?.state.bytes ?? 0) }), { messages: 0, bytes: 0 }),
        },
        consumers: stream ? Object.fromEntries(await Promise.all(AGGREGATOR_CONSUMERS.map(async ({ stream: of, name }) => [name, await findConsumer(jsm, of, name)]))) : {},
        latest: await findStream(jsm, `KV_${LATEST_BUCKET}`),
        state: await findStream(jsm, `KV_${STATE_BUCKET}`),
        dlq: await findStream(jsm, DLQ_STREAM),
      }),
    );
    return checks;
  } catch (err) {
    return [{ name: "JetStream", status: "fail", detail: `request failed: ${errorMessage(err)}`, fix: "Run `ecwatch doctor` again; if it fails again, read the nats-server log." }];
  }
}

export async function probeNats(url: string, security?: NatsSecurity): Promise<Probe> {
  let nc: NatsConnection;
  try {
    nc = await connectNats(url, "ecwatch-doctor", security);
  } catch (err) {
    return unreachable(err);
  }
  try {
    return { reachable: true, version: nc.info?.version, checks: await jetStreamChecks(nc) };
  } finally {
    await nc.close();
  }
}

export async function probeRedis(url: string, security?: RedisSecurity): Promise<Probe> {
  let cache: RedisCache;
  try {
    cache = await RedisCache.connect(url, security);
  } catch (err) {
    return unreachable(err);
  }
  try {
    return { reachable: true, version: infoField(await cache.redis.info("server"), "redis_version"), checks: [] };
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

/**
 * The prototype's aggregator running beside ecwatch (issue 18, point 2), reproduced as it is:
 * it creates EC_STREAM on `ec.*.net` (ignoring "already exists") and the KV bucket `ec_latest`,
 * reads through a durable push consumer `agg-worker` (deliver all, acknowledged after its
 * callback), and for every message writes Python's `json.dumps({"genW": g, "conW": c,
 * "measuredAt": m})` to Redis (`SET ec:<id>:latest … EX 60`) and to KV `community/<id>`. On a
 * nats-server of its own (no ecwatch mappings), so readings land in EC_STREAM, as they do when
 * ecwatch is pointed at the prototype's server.
 */
import { parseLastEventId } from "../../src/wire/sse-event-id.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AckPolicy, DeliverPolicy, JetStreamApiError, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { createInbox, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { doctorProbes } from "../../src/app/doctor.js";
import { type AggregationService, type ApiService, startAggregation, startApi } from "../../src/app/services.js";
import { runChecks } from "../../src/doctor/checks.js";
import { isEcwatchAggregate } from "../../src/domain/aggregate.js";
import { connectNats } from "../../src/nats/connect.js";
import { latestCacheKey } from "../../src/redis/redis-cache.js";
import { LATEST_BUCKET, PROTOTYPE_CONSUMER, STREAM, communityReadingSubject, latestKey } from "../../src/wire/names.js";
import { parseSamples } from "../helpers/prometheus.js";
import { startSecureNats, startSecureRedis, type TestServer } from "../helpers/secure-servers.js";
import { SseReader } from "../helpers/sse.js";
import { eventually } from "../helpers/stack.js";

const COMMUNITIES = ["proto1", "proto2"];
const READINGS_EACH = 100;
const T0 = Date.parse("2026-06-21T12:00:00Z");
/** JetStream's "stream name already in use": what the prototype's create_stream ignores. */
const STREAM_NAME_EXISTS = 10058;

/** Python's json.dumps of a dict: `, ` and `: ` between items. */
const pythonJsonDumps = (value: Record<string, number | string>): string =>
  `{${Object.entries(value).map(([key, v]) => `${JSON.stringify(key)}: ${JSON.stringify(v)}`).join(", ")}}`;

/** The prototype's aggregator (worker.py), step for step. */
class PrototypeAggregator {
  writes = 0;
  lastWriteAt = 0;
  private sub: Subscription | undefined;
  private queue = Promise.resolve();

  constructor(
    private readonly nc: NatsConnection,
    private readonly redis: Redis,
  ) {}

  async start(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    try {
      await jsm.streams.add({ name: STREAM, subjects: ["ec.*.net"] });
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === STREAM_NAME_EXISTS)) throw err;
    }
    const kvm = new Kvm(jetstream(this.nc));
    const kv: KV = await kvm.create(LATEST_BUCKET);
    // js.subscribe("ec.*.net", durable="agg-worker", cb=…): a push consumer, deliver all, created when missing.
    const deliverSubject = createInbox();
    await jsm.consumers.add(STREAM, {
      durable_name: PROTOTYPE_CONSUMER,
      deliver_subject: deliverSubject,
      deliver_policy: DeliverPolicy.All,
      ack_policy: AckPolicy.Explicit,
      filter_subject: "ec.*.net",
    });
    this.sub = this.nc.subscribe(deliverSubject, {
      // nats.py runs a subscription's callbacks one after the other, and acks after each.
      callback: (_err, msg) => {
        this.queue = this.queue.then(async () => {
          const communityId = msg.subject.split(".")[1]!;
          const reading = msg.json<{ genW: number; conW: number; measuredAt: string }>();
          const value = pythonJsonDumps({ genW: reading.genW, conW: reading.conW, measuredAt: reading.measuredAt });
          await this.redis.set(latestCacheKey(communityId), value, "EX", 60);
          await kv.put(latestKey(communityId), value);
          this.writes += 1;
          this.lastWriteAt = performance.now();
          if (msg.reply) this.nc.publish(msg.reply, "+ACK");
        });
      },
    });
  }

  /** Exits: its subscription ends, its durable consumer stays. */
  async stop(): Promise<void> {
    this.sub?.unsubscribe();
    await this.queue;
  }
}

let dir: string;
let nats: TestServer;
let redisServer: TestServer;
let natsUrl: string;
let redisUrl: string;
let nc: NatsConnection;
let redis: Redis;
let kv: KV;
let aggregation: AggregationService;
let api: ApiService;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ecwatch-prototype-"));
  [nats, redisServer] = await Promise.all([startSecureNats(join(dir, "nats"), {}), startSecureRedis(join(dir, "redis"), {})]);
  natsUrl = `nats://127.0.0.1:${nats.port}`;
  redisUrl = `redis://127.0.0.1:${redisServer.port}`;
  aggregation = await startAggregation(natsUrl, redisUrl, { staleAfterMs: 3_600_000 });
  api = await startApi(natsUrl, redisUrl, "127.0.0.1", 0);
  nc = await connectNats(natsUrl, "prototype");
  redis = new Redis(redisUrl);
  kv = await new Kvm(jetstream(nc)).open(LATEST_BUCKET);
  // The prototype's POST /communities/ publishes community-level readings to JetStream.
  const js = jetstream(nc);
  for (let i = 0; i < READINGS_EACH; i++) {
    for (const [c, communityId] of COMMUNITIES.entries()) {
      const reading = { communityId, genW: 5000 + i + c, conW: 3000 + c, measuredAt: new Date(T0 + i * 1_000).toISOString() };
      await js.publish(communityReadingSubject(communityId), JSON.stringify(reading));
    }
  }
  await eventually(async () => ((await ecwatchValues()).every(Boolean) ? true : undefined), 20_000, "ecwatch's aggregates of every community");
});

afterAll(async () => {
  await api?.stop();
  await aggregation?.stop();
  redis?.disconnect();
  await nc?.close();
  await Promise.all([nats?.stop(), redisServer?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

/** Per community, whether both KV and Redis hold ecwatch's aggregate of it. */
async function ecwatchValues(): Promise<boolean[]> {
  return Promise.all(
    COMMUNITIES.map(async (communityId) => {
      const [cached, entry] = await Promise.all([redis.get(latestCacheKey(communityId)), kv.get(latestKey(communityId))]);
      const stored = entry?.operation === "PUT" ? entry.string() : null;
      return [cached, stored].every((json) => json !== null && isEcwatchAggregate(JSON.parse(json), communityId));
    }),
  );
}

/** What the prototype's clients do: read the key, and take genW, conW and measuredAt. */
async function prototypeReads(communityId: string): Promise<unknown[]> {
  const [cached, entry] = await Promise.all([redis.get(latestCacheKey(communityId)), kv.get(latestKey(communityId))]);
  return [cached, entry?.string()].map((json) => {
    const { genW, conW, measuredAt } = JSON.parse(json!) as Record<string, unknown>;
    return { genW, conW, measuredAt };
  });
}

const readingShape = { genW: expect.any(Number), conW: expect.any(Number), measuredAt: expect.stringMatching(/^2026-06-21T12:/) };

/** One GET, judged: an ecwatch aggregate (or a list of them), or a 503 saying another writer wrote it. */
async function judgedGet(path: string): Promise<string | undefined> {
  const res = await fetch(`${api.url}${path}`, { signal: AbortSignal.timeout(3_000) }).catch((err: unknown) => err as Error);
  if (res instanceof Error) return `${path}: ${res.message}`;
  const body = (await res.json()) as unknown;
  if (res.status === 503) {
    if (res.headers.get("retry-after") !== "1") return `${path}: 503 without Retry-After: 1`;
    return /written by another writer, not ecwatch's aggregator; (it is|they are) restored within seconds$/.test((body as { error: string }).error) ? undefined : `${path}: ${JSON.stringify(body)}`;
  }
  if (res.status !== 200) return `${path}: ${res.status} ${JSON.stringify(body)}`;
  const values = Array.isArray(body) ? (body as Array<{ communityId: string }>) : [body as { communityId: string }];
  const foreign = values.filter((value) => !isEcwatchAggregate(value, value.communityId ?? path.split("/")[2]));
  return foreign.length ? `${path}: served ${JSON.stringify(foreign)}` : undefined;
}

async function foreignWritesCounted(): Promise<{ kv: number; redis: number }> {
  const samples = parseSamples(await aggregation.metrics.metrics()).filter((s) => s.name === "ecwatch_aggregator_foreign_writes_total");
  const of = (store: string) => samples.find((s) => s.labels.store === store)?.value ?? 0;
  return { kv: of("kv"), redis: of("redis") };
}

describe("the prototype's aggregator beside ecwatch", () => {
  it("while only the prototype's values are stored: no GET serves one, SSE sends no `id: 0`, doctor names agg-worker; a restarted ecwatch warns and writes its own back", async () => {
    await aggregation.stop();
    const prototype = new PrototypeAggregator(nc, redis);
    await prototype.start();
    await eventually(async () => (prototype.writes === COMMUNITIES.length * READINGS_EACH ? true : undefined), 20_000, "the prototype's replay");
    await prototype.stop();
    expect(await ecwatchValues()).toEqual([false, false]);
    // The prototype's clients read what they always did.
    expect(await prototypeReads("proto1")).toEqual([readingShape, readingShape]);

    const get = await fetch(`${api.url}/communities/proto1`);
    expect(get.status).toBe(503);
    expect(get.headers.get("retry-after")).toBe("1");
    expect(await get.json()).toEqual({ error: "community proto1's stored value was written by another writer, not ecwatch's aggregator; it is restored within seconds" });
    expect(await judgedGet("/communities")).toBeUndefined();
    expect((await fetch(`${api.url}/communities`)).status).toBe(503);

    const fresh = await SseReader.open(`${api.url}/communities/proto1/stream`);
    const resuming = await SseReader.open(`${api.url}/communities/proto1/stream`, { "last-event-id": "0" });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([...fresh.events, ...resuming.events]).toEqual([]);

    const checks = await runChecks({ nats: natsUrl, redis: redisUrl, api: api.url, ...doctorProbes() }, {}, join(dir, "no-stack"));
    expect(checks.find((check) => check.name === `consumer ${PROTOTYPE_CONSUMER}`)).toMatchObject({
      status: "fail",
      detail: expect.stringContaining(`${STREAM} has a consumer ecwatch did not create, ${PROTOTYPE_CONSUMER} (push consumer, delivers all)`),
      fix: `Stop the other aggregator (the prototype's worker), then remove its consumer with \`nats consumer rm ${STREAM} ${PROTOTYPE_CONSUMER} -f\`.`,
    });

    const started = performance.now();
    aggregation = await startAggregation(natsUrl, redisUrl, { staleAfterMs: 3_600_000 });
    expect(aggregation.warnings).toEqual([expect.stringContaining(`${PROTOTYPE_CONSUMER} (push consumer, delivers all): another aggregator, such as the prototype's`)]);
    expect(aggregation.warnings[0]).toContain("ecwatch removed it on start");
    await eventually(async () => ((await ecwatchValues()).every(Boolean) ? true : undefined), 2_000, "ecwatch's values written back");
    console.log(`restarted ecwatch wrote its values back ${Math.round(performance.now() - started)} ms after it started`);
    // Both clients now get ecwatch's value, with a real version.
    for (const reader of [fresh, resuming]) {
      const event = await reader.waitFor(() => true, 3_000);
      expect(parseLastEventId(event.id)?.version).toBeGreaterThanOrEqual(1);
      expect(isEcwatchAggregate(JSON.parse(event.data), "proto1")).toBe(true);
      reader.stop();
    }
    expect((await foreignWritesCounted()).kv).toBeGreaterThanOrEqual(COMMUNITIES.length);
    expect(await judgedGet("/communities/proto1")).toBeUndefined();
    expect((await fetch(`${api.url}/communities/proto1`)).status).toBe(200);
    // ecwatch's value is a superset of the prototype's.
    expect(await prototypeReads("proto1")).toEqual([readingShape, readingShape]);
  });

  it("when the prototype restarts and replays beside a running ecwatch: never served, restored within 2 s, counted", async () => {
    const before = await foreignWritesCounted();
    const problems: string[] = [];
    let polling = true;
    let answers = 0;
    const poller = (async () => {
      while (polling) {
        for (const path of ["/communities/proto1", "/communities/proto2", "/communities"]) {
          const problem = await judgedGet(path);
          answers += 1;
          if (problem) problems.push(problem);
        }
      }
    })();
    const prototype = new PrototypeAggregator(nc, redis);
    await prototype.start(); // re-creates agg-worker (ecwatch removed it) and replays every reading
    await eventually(async () => (prototype.writes === COMMUNITIES.length * READINGS_EACH ? true : undefined), 20_000, "the prototype's replay");
    await eventually(async () => ((await ecwatchValues()).every(Boolean) ? true : undefined), 2_000, "ecwatch's values written back");
    const restoredMs = performance.now() - prototype.lastWriteAt;
    console.log(`${prototype.writes} foreign writes; both stores ecwatch's again ${Math.round(restoredMs)} ms after the last`);
    expect(restoredMs).toBeLessThan(2_000);
    polling = false;
    await poller;
    await prototype.stop();
    expect(problems).toEqual([]);
    expect(answers).toBeGreaterThan(10);
    expect((await foreignWritesCounted()).kv).toBeGreaterThan(before.kv);
    expect(aggregation.aggregator.stats.foreignKv).toBe((await foreignWritesCounted()).kv);
  });

  it("a foreign value in Redis alone is found by reading the cache back, written over within 2 s, and counted", async () => {
    const before = await foreignWritesCounted();
    await redis.set(latestCacheKey("proto2"), pythonJsonDumps({ genW: 1, conW: 2, measuredAt: "2026-06-21T12:00:00Z" }), "EX", 60);
    await eventually(async () => ((await ecwatchValues()).every(Boolean) ? true : undefined), 2_000, "Redis written back");
    expect((await foreignWritesCounted()).redis).toBe(before.redis + 1);
  });
});

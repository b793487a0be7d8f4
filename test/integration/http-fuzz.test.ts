import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import fc from "fast-check";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../src/api/server.js";
import { connectNats } from "../../src/nats/connect.js";
import { DLQ_STREAM, LATEST_BUCKET, LATEST_KEY_PREFIX, READING_STREAMS, STATE_BUCKET, parseReadingSubject } from "../../src/wire/names.js";
import { CONTROL_KEY_PREFIX } from "../../src/aggregator/lease.js";
import { communityOfShardKey } from "../../src/aggregator/snapshot-shards.js";
import { aheadProblem, parseCommunityReading, parseJson } from "../../src/domain/reading.js";
import { HOSTILE_CHARS, anyJson, anyString, invalidIdString, stringOf, invalidWatts, nonString, validId, validTimestamp, validWatts } from "../property/arbitraries.js";
import { checkAsyncProperty } from "../property/property.js";
import { type RawResponse, rawRequest } from "../helpers/raw-http.js";
import { eventually, usePipeline } from "../helpers/stack.js";

const pipeline = usePipeline();

/** The ids the README documents, written out here rather than taken from the code under test. */
const isValidId = (value: string): boolean => /^[A-Za-z0-9_-]{1,64}$/.test(value);

/** Ids the fuzz used in valid readings: they, and only they, may appear in subjects and keys. */
const hostileSeen = new Set<string>();

/**
 * Sends one request; a 429 of the rate limit (100 writes/s per address) is checked like every
 * answer and the request sent again after its Retry-After, so the fuzz is not judged by the limit.
 */
async function send(options: Parameters<typeof rawRequest>[1]): Promise<RawResponse> {
  for (;;) {
    const response = await rawRequest(pipeline.api.url, options);
    if (response.status !== 429) return response;
    expectJsonError(response, options);
    await new Promise((resolve) => setTimeout(resolve, 1_000 * Number(response.headers["retry-after"] ?? 1)));
  }
}

const describeRequest = (options: Parameters<typeof rawRequest>[1]): string =>
  `${options.method} ${JSON.stringify(options.target)}${options.body === undefined ? "" : ` (${options.body.length} bytes of body)`}`;

/** A refusal: a 4xx whose body is JSON with a non-empty `error` sentence. */
function expectJsonError(response: RawResponse, options: Parameters<typeof rawRequest>[1]): string {
  const what = `${describeRequest(options)} → ${response.status} ${response.body.slice(0, 200)}`;
  expect(response.status >= 400 && response.status < 500, what).toBe(true);
  expect(response.headers["content-type"], what).toMatch(/^application\/json/);
  const body = JSON.parse(response.body) as { error?: unknown };
  expect(typeof body.error === "string" && body.error.length > 0, what).toBe(true);
  return body.error as string;
}

/** Any answer: never a 5xx; JSON (or an event stream, or nothing for HEAD and a preflight). */
function expectWellFormed(response: RawResponse, options: Parameters<typeof rawRequest>[1]): void {
  const what = `${describeRequest(options)} → ${response.status} ${response.body.slice(0, 200)}`;
  expect(Number.isInteger(response.status) && response.status < 500, what).toBe(true);
  if (response.status >= 400) {
    if (options.method !== "HEAD") expectJsonError(response, options);
    return;
  }
  if (options.method === "HEAD" || response.status === 204) return;
  if (response.headers["content-type"]?.startsWith("text/event-stream")) return;
  // The one success that is not JSON: Prometheus' text format of GET /metrics.
  if (/^\/+metrics\/*(\?|$)/.test(options.target) && response.headers["content-type"]?.startsWith("text/plain")) return;
  expect(response.headers["content-type"], what).toMatch(/^application\/json/);
  JSON.parse(response.body);
}

// ---------------------------------------------------------------------------------------
// POST bodies.

const reading = fc.record(
  {
    communityId: fc.oneof({ weight: 4, arbitrary: validId() }, invalidIdString(), nonString()),
    genW: fc.oneof({ weight: 4, arbitrary: validWatts() }, invalidWatts()),
    conW: fc.oneof({ weight: 4, arbitrary: validWatts() }, invalidWatts()),
    // Past times, stamped ones, anything: a time near the 5-minute limit would make the oracle race the clock.
    measuredAt: fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 60_000, max: 10 * 365 * 86_400_000 }).map((ago) => new Date(Date.now() - ago).toISOString()) },
      validTimestamp().map((t) => t.text).filter((text) => Math.abs(Date.parse(text) - Date.now() - 5 * 60_000) > 3_600_000),
      anyString(40),
      nonString(),
    ),
    extra: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);

const body = fc.oneof(
  { weight: 6, arbitrary: reading.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v))) },
  { weight: 2, arbitrary: anyJson().map((v) => JSON.stringify(v)) },
  anyString(200),
  fc.constantFrom("", "null", "[]", "{}", "{", '{"communityId":"c1","genW":1e999,"conW":0}', '{"communityId":"c1","genW":NaN,"conW":0}', '{"communityId":"c1","genW":"NaN","conW":"Infinity"}', '{"communityId":"c1","genW":-0,"conW":0}', '{"__proto__":{"communityId":"c1"},"genW":1,"conW":1}', '{"communityId":"c1","communityId":"a.b","genW":1,"conW":1}'),
  fc.integer({ min: 1, max: 20_000 }).map((depth) => `${"[".repeat(depth)}${"]".repeat(depth)}`),
  fc.integer({ min: 1, max: 5_000 }).map((depth) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`),
  fc.integer({ min: MAX_BODY_BYTES - 64, max: MAX_BODY_BYTES * 8 }).map((size) => JSON.stringify({ communityId: "c1", genW: 1, conW: 1, pad: "x".repeat(Math.max(0, size - 60)) })),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
);

/** What the API must answer to a POST of these bytes: worked out from the domain's own parsers. */
function expectedAnswer(bytes: Buffer, nowMs: number): { status: 200; communityId: string } | { status: 400 | 413; error: string } {
  if (bytes.length > MAX_BODY_BYTES) return { status: 413, error: `the body must be at most ${MAX_BODY_BYTES} bytes` };
  const json = parseJson(bytes.toString("utf8"));
  if (!json.ok) return { status: 400, error: json.error };
  const parsed = parseCommunityReading(json.value, new Date(nowMs).toISOString());
  if (!parsed.ok) return { status: 400, error: parsed.error };
  const ahead = aheadProblem(parsed.value.measuredAt, nowMs);
  return ahead ? { status: 400, error: ahead } : { status: 200, communityId: parsed.value.communityId };
}

describe("the API under hostile input", () => {
  it("answers every POST body as the domain's parsers say: 200 for a valid reading, a JSON 400/413 naming the problem otherwise", async () => {
    const statuses = new Map<number, number>();
    await checkAsyncProperty(
      "HTTP fuzz: POST /communities bodies",
      fc.asyncProperty(body, fc.constantFrom(undefined, 1, 7, 4096), fc.constantFrom("application/json", "text/plain", "multipart/form-data; boundary=x", undefined), async (text, chunkBytes, contentType) => {
        const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, "utf8");
        const options = { method: "POST", target: "/communities", body: bytes, ...(chunkBytes && { chunkBytes }), ...(contentType && { headers: { "content-type": contentType } }) };
        const expected = expectedAnswer(bytes, Date.now());
        const response = await send(options);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (expected.status === 200) {
          expect(response.status, `${describeRequest(options)} → ${response.body}`).toBe(200);
          expect(JSON.parse(response.body)).toMatchObject({ status: "published", subject: `ec.${expected.communityId}.net` });
        } else {
          expect(response.status, `${describeRequest(options)}: ${bytes.toString("utf8").slice(0, 200)}`).toBe(expected.status);
          expect(expectJsonError(response, options)).toBe(expected.error);
        }
      }),
      400,
    );
    console.log(`[fuzz] POST statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
    // The fuzz reached both sides: readings published and readings refused.
    expect(statuses.get(200)).toBeGreaterThan(0);
    expect(statuses.get(400)).toBeGreaterThan(0);
    expect(statuses.get(413)).toBeGreaterThan(0);
  }, 180_000);

  // -------------------------------------------------------------------------------------
  // Paths and methods.

  const hostileSegment = fc.oneof(
    fc.constantFrom("..", ".", "%2e%2e", "%2E%2e", "%2e", "%00", "%2f", "%2F..%2F", "%5c", "%252e%252e", "%25", "%", "%zz", "%e2%80%ae", "%E2%80%8F", "%C0%AE%C0%AE", "%ff", "*", ">", "ec.x", "a.b", "%3E", "%2A", "~", "$JS", "..%00", "community1%00", "%20", "+"),
    fc.constantFrom(...HOSTILE_CHARS),
    stringOf([...HOSTILE_CHARS, "a", "%", "2", "e"], 1, 6),
    invalidIdString(),
    fc.integer({ min: 65, max: 20_000 }).map((n) => "a".repeat(n)),
  );
  /** A hostile id %-encoded, as a browser or fetch sends it: every byte legal in a request line, so the router must judge it. */
  const encodedHostileId = invalidIdString().map((id) => {
    try {
      return encodeURIComponent(id).replace(/[!'()*.~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    } catch {
      return "%ED%A0%80"; // A lone surrogate cannot be encoded: its UTF-8 bytes, which decode to nothing valid.
    }
  });
  const segment = fc.oneof({ weight: 2, arbitrary: validId() }, { weight: 3, arbitrary: hostileSegment }, { weight: 3, arbitrary: encodedHostileId }, fc.constantFrom("stream", "communities", "healthz", "metrics", "openapi.json"));
  const target = fc.oneof(
    // Mostly the shape of the API's paths, with hostile parts where ids go.
    { weight: 8, arbitrary: fc.tuple(fc.constantFrom(["communities"], ["communities"], ["communities"], []), fc.array(segment, { maxLength: 3 }), fc.boolean(), fc.option(fc.oneof(fc.webQueryParameters(), anyString(30)), { freq: 2 })).map(([root, segments, slash, query]) => `/${[...root, ...segments].join("/")}${slash ? "/" : ""}${query === null ? "" : `?${query}`}`) },
    fc.constantFrom("*", "communities", "http://127.0.0.1/communities", "//communities", "/communities#x", "/communities/community1#/../x", "/%2e%2e/%2e%2e/etc/passwd", "/communities/%2e%2e%2f%2e%2e%2fetc", ""),
  );
  const method = fc.constantFrom("GET", "GET", "GET", "GET", "GET", "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "FOO", "get", "TRACE", "CONNECT");

  it("answers every path and method with well-formed JSON, never a 5xx or a hang; a hostile id is a 400 naming communityId", async () => {
    const statuses = new Map<number, number>();
    let refusedIds = 0;
    await checkAsyncProperty(
      "HTTP fuzz: paths and methods",
      fc.asyncProperty(target, method, fc.constantFrom<Record<string, string>>({}, { upgrade: "websocket", connection: "upgrade" }, { "last-event-id": "9".repeat(400) }, { origin: "https://evil.example" }), async (path, verb, headers) => {
        const options = { method: verb, target: path, headers };
        const response = await send(options);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expectWellFormed(response, options);
        // The id as the server reads it: the request target ends at the first space of the
        // request line (`GET /communities/  HTTP/1.1` asks for `/communities/`); then the
        // path before `?`, split at `/`, %-decoded.
        const [root, id, leaf, ...rest] = path.split(" ")[0]!.split("?")[0]!.split("/").filter(Boolean);
        if (verb !== "GET" || root !== "communities" || id === undefined || rest.length || (leaf !== undefined && leaf !== "stream")) return;
        let decoded: string;
        try {
          decoded = decodeURIComponent(id);
        } catch {
          return;
        }
        if (isValidId(decoded)) return;
        hostileSeen.add(decoded);
        // A request line and headers over node's 16 KiB are refused before they are routed (a long path with the
        // 400-byte Last-Event-ID reaches it with a path under 16,000 bytes).
        const headerBytes = Object.entries(headers).reduce((sum, [name, value]) => sum + name.length + value.length + 4, 0);
        if (response.status === 431 && Buffer.byteLength(path) + headerBytes > 16_000) return;
        expect(response.status, describeRequest(options)).toBe(400);
        // Bytes a request line may not hold are refused by the HTTP parser before the id is read.
        const error = expectJsonError(response, options);
        if (/^[\x21-\x7e]*$/.test(path)) expect(error).toMatch(/^communityId /);
        else expect(error).toMatch(/^(communityId |the request is not valid HTTP)/);
        if (error.startsWith("communityId ")) refusedIds += 1;
      }),
      1_000,
    );
    console.log(`[fuzz] path statuses: ${JSON.stringify(Object.fromEntries(statuses))}; hostile ids refused by the router: ${refusedIds} (${hostileSeen.size} distinct hostile ids sent)`);
    expect(refusedIds).toBeGreaterThan(0);
    expect(statuses.get(400)).toBeGreaterThan(0);
    expect(statuses.get(404)).toBeGreaterThan(0);
  }, 180_000);

  it("ignores query strings: the API takes no query parameters", async () => {
    await eventually(async () => ((await fetch(`${pipeline.api.url}/communities`)).ok ? true : undefined));
    const plain = await send({ method: "GET", target: "/communities" });
    expect(plain.status).toBe(200);
    await checkAsyncProperty(
      "HTTP fuzz: query strings",
      fc.asyncProperty(fc.oneof(fc.webQueryParameters(), anyString(60), fc.constantFrom("communityId=a.b", "id=*", "x=%00", "x=%e2%80%ae", "a=1&a=2", "=", "&&", "?", "%zz")), fc.constantFrom("/communities", "/healthz", "/communities/nosuch"), async (query, path) => {
        const options = { method: "GET", target: `${path}?${query}` };
        const response = await send(options);
        expectWellFormed(response, options);
        // Either the request as without the query, or a refusal of bytes a request line may not hold.
        const without = { "/communities": 200, "/healthz": 200, "/communities/nosuch": 404 }[path];
        if (response.status !== 400) expect(response.status, describeRequest(options)).toBe(without);
      }),
      300,
    );
  }, 120_000);

  it("keeps serving normal requests afterwards, and no hostile id reached a subject or a key", async () => {
    const all = await eventually(async () => {
      const res = await fetch(`${pipeline.api.url}/communities`);
      const list = res.status === 200 ? ((await res.json()) as Array<{ communityId: string }>) : [];
      return list.length ? list : undefined;
    }, 20_000, "the fuzz's valid readings to be aggregated");
    expect((await fetch(`${pipeline.api.url}/communities/${all[0]!.communityId}`)).status).toBe(200);
    expect((await fetch(`${pipeline.api.url}/healthz`)).status).toBe(200);
    expect(hostileSeen.size).toBeGreaterThan(0);

    const nc = await connectNats(pipeline.stack.natsUrl, "test-fuzz-keys");
    try {
      const jsm = await jetstreamManager(nc);
      const kvm = new Kvm(nc);
      const latestKeys: string[] = [];
      for await (const key of await (await kvm.open(LATEST_BUCKET)).keys()) latestKeys.push(key);
      expect(latestKeys.length).toBeGreaterThan(0);
      for (const key of latestKeys) expect(key.startsWith(LATEST_KEY_PREFIX) && isValidId(key.slice(LATEST_KEY_PREFIX.length)), key).toBe(true);
      for await (const key of await (await kvm.open(STATE_BUCKET)).keys()) {
        if (!key.startsWith(CONTROL_KEY_PREFIX)) expect(isValidId(communityOfShardKey(key)), key).toBe(true);
      }
      // Every subject a reading was stored under: ec.<id>.… or ecp.<p>.<id>.…, with valid ids.
      let subjects = 0;
      for (const name of READING_STREAMS) {
        const info = await jsm.streams.info(name, { subjects_filter: ">" });
        for (const subject of Object.keys(info.state.subjects ?? {})) {
          subjects += 1;
          const where = parseReadingSubject(subject);
          expect(where !== undefined && isValidId(where.communityId) && (where.level === "community" || isValidId(where.meterId)), subject).toBe(true);
        }
      }
      expect(subjects).toBeGreaterThan(0);
      // Nothing the API published was malformed.
      expect((await jsm.streams.info(DLQ_STREAM)).state.messages).toBe(0);
    } finally {
      await nc.drain();
    }

    const redis = new Redis(pipeline.stack.redisUrl);
    try {
      const keys = await redis.keys("*");
      for (const key of keys) expect(/^ec:([A-Za-z0-9_-]{1,64}):latest$/.test(key), key).toBe(true);
    } finally {
      await redis.quit();
    }
  }, 60_000);
});

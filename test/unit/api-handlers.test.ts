import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { NatsError } from "../../src/nats/nats-errors.js";
import { errors } from "@nats-io/transport-node";
import type { Aggregate } from "../../src/domain/aggregate.js";
import { SseReader } from "../helpers/sse.js";
import { aggregateOf, EPOCH, useFakeApi } from "../helpers/api-fakes.js";

/**
 * The API's handlers over in-memory fakes of its ports: validation, 404/405/413, what a POST hands
 * to the publisher, upstream failures, and the SSE versions. Moved here from
 * test/integration/pipeline.test.ts, which needed real servers for none of it (issue 16).
 */
const startApi = useFakeApi();

async function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/communities/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function getJson(url: string): Promise<{ status: number; body: unknown; source: string | null }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json(), source: res.headers.get("x-ecwatch-source") };
}

describe("bad input", () => {
  const valid = { communityId: "community1", genW: 100, conW: 50, measuredAt: "2026-11-22T12:00:00Z" };
  const cases: Array<[string, unknown, string]> = [
    ["malformed JSON", "{not json", "JSON"],
    ["a body that is not an object", "[1,2]", "object"],
    ["missing genW", { ...valid, genW: undefined }, "genW"],
    ["negative conW", { ...valid, conW: -1 }, "conW"],
    ["non-numeric genW", { ...valid, genW: "100" }, "genW"],
    ["infinite-looking genW", { ...valid, genW: 1e300 }, "genW"],
    ["a timestamp that is not ISO-8601", { ...valid, measuredAt: "yesterday" }, "measuredAt"],
    ["an impossible date", { ...valid, measuredAt: "2026-13-45T99:00:00Z" }, "measuredAt"],
    ["an id with a dot", { ...valid, communityId: "a.b" }, "communityId"],
    ["an id with *", { ...valid, communityId: "a*" }, "communityId"],
    ["an id with >", { ...valid, communityId: ">" }, "communityId"],
    ["an id with a space", { ...valid, communityId: "a b" }, "communityId"],
    ["an id longer than 64 characters", { ...valid, communityId: "x".repeat(65) }, "communityId"],
  ];
  it.each(cases)("POST with %s is a 400 naming the field", async (_what, body, field) => {
    const api = await startApi();
    const res = await post(api.url, body);
    expect(res.status).toBe(400);
    expect(String(res.body.error)).toContain(field);
    expect(api.readings.published).toEqual([]);
  });

  it.each(["a.b", "a*", "%3E", "a%20b", "a%00b", "%E2%80%AEx", "a%2Fb"])("GET /communities/%s is a 400 naming the id", async (id) => {
    const { url } = await startApi();
    for (const path of [`/communities/${id}`, `/communities/${id}/stream`]) {
      const res = await fetch(`${url}${path}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toContain("communityId");
    }
  });

  it.each(["..", "%2e%2e"])("a path that climbs out with %s is a 404", async (dots) => {
    const { url } = await startApi();
    // The client resolves the dots (WHATWG URL), so the server sees another path, never an id.
    expect((await fetch(`${url}/communities/${dots}/x`)).status).toBe(404);
  });

  it("rejects a reading more than 5 minutes in the future, which would freeze its community", async () => {
    const { url } = await startApi();
    const res = await post(url, { ...valid, measuredAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect(res.status).toBe(400);
    expect(String(res.body.error)).toContain("measuredAt");
  });

  it("answers 405 with an Allow header for a method an endpoint does not take", async () => {
    const { url } = await startApi();
    const res = await fetch(`${url}/communities/community1`, { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
  });

  it("rejects an oversized body with 413", async () => {
    const { url } = await startApi();
    const res = await post(url, { ...valid, padding: "x".repeat(100_000) });
    expect(res.status).toBe(413);
  });
});

describe("reading and publishing", () => {
  it("answers 404 for a community without data", async () => {
    const { url } = await startApi();
    const res = await getJson(`${url}/communities/nosuchcommunity`);
    expect(res.status).toBe(404);
    expect(res.body).toHaveProperty("error");
  });

  it("answers a community's latest aggregate with where it was read, and lists every community", async () => {
    const api = await startApi();
    api.latest.values.set("c2", aggregateOf("c2", 3));
    api.latest.values.set("c1", aggregateOf("c1", 7));
    expect(await getJson(`${api.url}/communities/c1`)).toEqual({ status: 200, body: aggregateOf("c1", 7), source: "redis" });
    expect((await getJson(`${api.url}/communities`)).body).toEqual([aggregateOf("c1", 7), aggregateOf("c2", 3)]);
  });

  it("hands a valid POST to the publisher and answers where it went, stamping a reading without measuredAt with its arrival", async () => {
    const arrival = new Date("2026-11-22T12:00:05.000Z");
    const api = await startApi({ now: () => arrival });
    expect(await post(api.url, { communityId: "c1", genW: 1000, conW: 400 })).toEqual({ status: 200, body: { status: "published", subject: "ec.c1.net", seq: 1 } });
    expect(api.readings.published).toEqual([{ communityId: "c1", genW: 1000, conW: 400, measuredAt: arrival.toISOString() }]);
  });

  it("answers 503 when an upstream fails (a typed UpstreamError), 500 for anything else, and tells the observer", async () => {
    const failures: number[] = [];
    const api = await startApi({ observer: { onServerError: (_err, status) => failures.push(status) } });
    const reading = { communityId: "c1", genW: 1, conW: 1, measuredAt: "2026-11-22T12:00:00Z" };
    api.readings.failWith = new NatsError(new errors.TimeoutError());
    expect(await post(api.url, reading)).toEqual({ status: 503, body: { error: "upstream failure: timeout" } });
    // A message that only reads like an upstream failure is our bug: the type decides.
    api.readings.failWith = new Error("nats connection timeout");
    expect(await post(api.url, reading)).toEqual({ status: 500, body: { error: "internal error: nats connection timeout" } });
    expect(failures).toEqual([503, 500]);
  });
});

describe("SSE versions", () => {
  it("does not send the current value again to a client that resumes with its Last-Event-ID", async () => {
    const api = await startApi();
    const version = 12;
    api.latest.values.set("ssecheck", aggregateOf("ssecheck", version));
    const reader = await SseReader.open(`${api.url}/communities/ssecheck/stream`, { "last-event-id": `${EPOCH}:${version}` });
    try {
      await expect.poll(() => api.feed.subscribers("ssecheck")).toBe(1);
      api.feed.emit("ssecheck", { ...aggregateOf("ssecheck", version + 1), genW: 5555, conW: 1 });
      const next = await reader.waitFor(() => true);
      expect(JSON.parse(next.data)).toMatchObject({ genW: 5555, version: version + 1 });
    } finally {
      reader.stop();
    }
  });

  it("sends the current value first, then each change with its epoch and version as the event id, one subscription for all clients", async () => {
    const api = await startApi();
    api.latest.values.set("c1", aggregateOf("c1", 4));
    const readers = await Promise.all([0, 1].map(() => SseReader.open(`${api.url}/communities/c1/stream`)));
    try {
      for (const reader of readers) expect((await reader.waitFor(() => true)).id).toBe(`${EPOCH}:4`);
      expect(api.feed.subscribers("c1")).toBe(1);
      api.feed.emit("c1", aggregateOf("c1", 5, 777));
      for (const reader of readers) {
        const event = await reader.waitFor((e) => e.id === `${EPOCH}:5`);
        expect((JSON.parse(event.data) as Aggregate).genW).toBe(777);
      }
    } finally {
      readers.forEach((reader) => reader.stop());
    }
    // The last client gone, the subscription closes.
    await expect.poll(() => api.feed.subscribers("c1")).toBe(0);
  });

  it("drops a lower version of the same epoch, and follows a reset: a higher epoch, whatever its version", async () => {
    const api = await startApi();
    const reader = await SseReader.open(`${api.url}/communities/c1/stream`);
    try {
      await expect.poll(() => api.feed.subscribers("c1")).toBe(1);
      api.feed.emit("c1", aggregateOf("c1", 9));
      await reader.waitFor((e) => e.id === `${EPOCH}:9`);
      api.feed.emit("c1", aggregateOf("c1", 1, 123));
      api.feed.emit("c1", aggregateOf("c1", 1, 321, 40, EPOCH + 1));
      const restarted = await reader.waitFor((e) => e.id === `${EPOCH + 1}:1`);
      expect((JSON.parse(restarted.data) as Aggregate).genW).toBe(321);
      expect(reader.events.map((e) => e.id)).toEqual([`${EPOCH}:9`, `${EPOCH + 1}:1`]);
    } finally {
      reader.stop();
    }
  });
});

describe("keep-alive", () => {
  it("keeps an idle connection open past node's 5 s, so that a client reusing it is not reset", { timeout: 20_000 }, async () => {
    const { url } = await startApi();
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    let received = "";
    let closedAt: number | undefined;
    socket.on("data", (chunk) => (received += chunk.toString()));
    socket.on("close", () => (closedAt = Date.now()));
    const request = `GET /healthz HTTP/1.1\r\nhost: ${hostname}\r\nconnection: keep-alive\r\n\r\n`;
    socket.write(request);
    await sleep(6_500);
    expect(closedAt, "the server closed the idle connection").toBeUndefined();
    socket.write(request);
    await sleep(500);
    socket.destroy();
    expect(received.match(/HTTP\/1\.1 \d{3}/g)?.length, received).toBe(2);
  });
});

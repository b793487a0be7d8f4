import { Agent, type IncomingHttpHeaders, request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectNats } from "../../src/nats/connect.js";
import { changeFeedSubject } from "../../src/wire/names.js";
import { CliProcess } from "../helpers/cli.js";
import { childrenOf, connectionOwner } from "../helpers/processes.js";
import { SseReader } from "../helpers/sse.js";
import { StuckClient } from "../helpers/stuck-client.js";
import { eventually, startTestStack, type TestStack } from "../helpers/stack.js";

/**
 * Issue 21: what a lone `serve` guarantees holds on every worker of `serve --workers 2` — the
 * token on writes, CORS on preflights and streams, and slow-client coalescing. Each request goes
 * on a connection of its own (the primary hands connections to the workers in turn), and /proc
 * names the worker that took it, so each check is seen on both workers.
 */

const TOKEN = "w2-token-5f1c";
const ORIGIN = "https://app.example.com";
const COMMUNITY = "wacc1";
/** Connections per check: the primary deals them out in turn, so each worker gets several. */
const CONNECTIONS = 6;

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The worker that answered (its pid). */
  readonly worker: number | undefined;
}

describe("`ecwatch serve --workers 2 --token … --cors …`", () => {
  let stack: TestStack;
  let aggregate: CliProcess | undefined;
  let serve: CliProcess | undefined;
  let nc: NatsConnection | undefined;
  let api: string;
  let workers: number[];
  let reading = 0;

  /** A request on a connection of its own, kept open until the worker that took it is known. */
  function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    return new Promise<Answer>((resolve, reject) => {
      const req = request(`${api}${path}`, { method, headers, agent }, (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, worker: connectionOwner(workers, req.socket!.localPort!) }));
      });
      req.on("error", reject);
      req.end(body);
    }).finally(() => agent.destroy());
  }

  const readingBody = (): string => {
    reading += 1;
    return JSON.stringify({ communityId: COMMUNITY, genW: 1_000 + reading, conW: 100, measuredAt: new Date(Date.now() - 60_000 + reading * 1_000).toISOString() });
  };

  beforeAll(async () => {
    stack = await startTestStack();
    aggregate = new CliProcess(["aggregate", "--nats", stack.natsUrl, "--redis", stack.redisUrl]);
    await aggregate.waitForStderr(/^aggregating /m);
    serve = new CliProcess(["serve", "--workers", "2", "--token", TOKEN, "--cors", ORIGIN, "--nats", stack.natsUrl, "--redis", stack.redisUrl, "--port", "0"]);
    api = (await serve.waitForStderr(/^serving (http:\/\/127\.0\.0\.1:\d+) \(2 workers, /m))[1]!;
    workers = childrenOf(serve.pid);
    expect(workers).toHaveLength(2);
    nc = await connectNats(stack.natsUrl, "test-api-workers-access");
  }, 60_000);

  afterAll(async () => {
    await nc?.close();
    for (const cli of [serve, aggregate]) {
      if (!cli?.running) continue;
      cli.kill("SIGTERM");
      await cli.exited;
    }
    await stack?.stop();
  });

  it("refuses a POST without the token on every worker, and publishes it with the token on every worker", { timeout: 60_000 }, async () => {
    const refused: Answer[] = [];
    const taken: Answer[] = [];
    const json = { "content-type": "application/json" };
    // One kind after the other: interleaved, the workers' turns would give each worker one kind.
    for (let i = 0; i < CONNECTIONS; i += 1) refused.push(await send("POST", "/communities", json, readingBody()));
    for (let i = 0; i < CONNECTIONS; i += 1) taken.push(await send("POST", "/communities", { ...json, authorization: `Bearer ${TOKEN}` }, readingBody()));
    expect(refused.map((a) => a.status)).toEqual(Array(CONNECTIONS).fill(401));
    expect(refused.every((a) => String(a.headers["www-authenticate"]).startsWith("Bearer"))).toBe(true);
    expect(taken.map((a) => a.status)).toEqual(Array(CONNECTIONS).fill(200));
    expect(new Set(refused.map((a) => a.worker))).toEqual(new Set(workers));
    expect(new Set(taken.map((a) => a.worker))).toEqual(new Set(workers));
  });

  it("answers the preflight and the SSE stream with the configured origin on every worker", { timeout: 60_000 }, async () => {
    const preflights: Answer[] = [];
    for (let i = 0; i < CONNECTIONS; i += 1) {
      preflights.push(await send("OPTIONS", "/communities", { origin: ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" }));
    }
    expect(preflights.map((a) => a.status)).toEqual(Array(CONNECTIONS).fill(204));
    expect(preflights.map((a) => a.headers["access-control-allow-origin"])).toEqual(Array(CONNECTIONS).fill(ORIGIN));
    expect(preflights.every((a) => String(a.headers["access-control-allow-headers"]).toLowerCase().includes("authorization"))).toBe(true);
    expect(new Set(preflights.map((a) => a.worker))).toEqual(new Set(workers));

    const streams = await Promise.all(Array.from({ length: CONNECTIONS }, () => SseReader.open(`${api}/communities/${COMMUNITY}/stream`, { origin: ORIGIN })));
    try {
      expect(streams.map((s) => s.status)).toEqual(Array(CONNECTIONS).fill(200));
      expect(streams.map((s) => s.headers["access-control-allow-origin"])).toEqual(Array(CONNECTIONS).fill(ORIGIN));
      expect(new Set(streams.map((s) => connectionOwner(workers, s.localPort)))).toEqual(new Set(workers));
      // An origin not configured gets no grant, on any worker.
      const stranger = await send("GET", "/openapi.json", { origin: "https://evil.example" });
      expect(stranger.headers["access-control-allow-origin"]).toBeUndefined();
    } finally {
      streams.forEach((s) => s.stop());
    }
  });

  it("coalesces for a client that does not read, on every worker: once it reads again it gets the newest value", { timeout: 90_000 }, async () => {
    const community = "wacc2";
    const path = `/communities/${community}/stream`;
    // One stuck client and one reading client on each worker (consecutive connections alternate).
    const stuck = [StuckClient.open(Number(new URL(api).port), path), StuckClient.open(Number(new URL(api).port), path)];
    const readers: SseReader[] = [];
    try {
      const stuckWorkers = await Promise.all(stuck.map(async (client) => eventually(async () => connectionOwner(workers, await client.localPort), 10_000, "the stuck client's worker")));
      expect(new Set(stuckWorkers)).toEqual(new Set(workers));
      for (let i = 0; i < 2; i += 1) readers.push(await SseReader.open(`${api}${path}`));
      // Every worker has joined its clients to the community once a first change reaches all readers.
      const epoch = Date.now();
      const pad = "x".repeat(1_000);
      const publish = (version: number): void => {
        const at = new Date().toISOString();
        nc!.publish(changeFeedSubject(community), JSON.stringify({ communityId: community, genW: version, conW: 1, netW: version - 1, meters: 1, stale: 0, measuredAt: at, aggregatedAt: at, version, epoch, pad }));
      };
      publish(1);
      await Promise.all(readers.map((r) => r.waitFor((e) => e.id === `${epoch}:1`, 15_000)));
      // ~400 KB of events: far more than a stuck client's kernel buffers (~50 KB) and its socket's high-water mark (16 KiB).
      const final = 400;
      for (let version = 2; version <= final; version += 1) publish(version);
      await nc!.flush();
      for (const reader of readers) {
        await reader.waitFor((e) => e.id === `${epoch}:${final}`, 30_000);
        const versions = reader.events.map((e) => Number(e.id!.split(":")[1]));
        expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
      }

      for (const client of stuck) client.resume();
      for (const client of stuck) {
        await eventually(async () => (client.versions().at(-1) === final ? true : undefined), 30_000, "the stuck client to get the newest version");
        const versions = client.versions();
        // In order, no repeat, ending with the newest; and versions were skipped: the worker kept only the newest while the client did not read.
        expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
        expect(versions.length).toBeLessThan(final);
      }
    } finally {
      stuck.forEach((client) => client.stop());
      readers.forEach((reader) => reader.stop());
    }
  });
});

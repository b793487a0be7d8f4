import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type AddressInfo } from "node:net";
import { CliProcess, runCli } from "../helpers/cli.js";
import { childrenOf, stillRunning } from "../helpers/processes.js";
import { promtoolCheck, Scrape, parseSamples } from "../helpers/prometheus.js";
import { SseReader } from "../helpers/sse.js";
import { ParquetSegments } from "../../src/duckdb/parquet-segments.js";
import { segmentsOf } from "../../src/wire/archive-layout.js";
import { archiveDirOf, eventually, startTestStack, type TestStack } from "../helpers/stack.js";

/**
 * Issue 21: `ecwatch serve --workers 2`, two processes on one port (node:cluster), each with its
 * own change-feed subscription and clients. Their clients see one stream of ids; a worker killed
 * with SIGKILL is replaced and its clients resume where they were; one /metrics counts what
 * every worker served.
 */

const COMMUNITY = "workers1";
const CLIENTS = 8;

/** Stops a CLI process and waits for it, if it was started. */
async function stop(cli: CliProcess | undefined): Promise<void> {
  if (!cli?.running) return;
  cli.kill("SIGTERM");
  await cli.exited;
}

/** A POST on a connection of its own, so that the primary hands it to the next worker. */
async function post(api: string, genW: number, measuredAt: Date): Promise<number> {
  const res = await fetch(`${api}/communities/`, {
    method: "POST",
    headers: { "content-type": "application/json", connection: "close" },
    body: JSON.stringify({ communityId: COMMUNITY, genW, conW: 100, measuredAt: measuredAt.toISOString() }),
  });
  await res.arrayBuffer();
  return res.status;
}

const versionOf = (id: string | undefined): number => Number(id?.split(":")[1]);

/** An SSE client that reconnects with Last-Event-ID when its stream closes, and keeps every id it was sent. */
class ResumingClient {
  readonly ids: string[] = [];
  reconnects = 0;
  private reader!: SseReader;
  private seen = 0;

  static async open(url: string): Promise<ResumingClient> {
    const client = new ResumingClient(url);
    client.reader = await SseReader.open(url);
    return client;
  }

  private constructor(private readonly url: string) {}

  /** Takes the reader's new events; reopens the stream (with the last id) if it closed. */
  async poll(): Promise<void> {
    for (const event of this.reader.events.slice(this.seen)) this.ids.push(event.id!);
    this.seen = this.reader.events.length;
    if (!this.reader.ended) return;
    this.reconnects += 1;
    this.reader = await SseReader.open(this.url, this.ids.length ? { "last-event-id": this.ids.at(-1)! } : {});
    this.seen = 0;
  }

  /** Resolves once an event of version `version` (or later) arrived. */
  async waitForVersion(version: number, timeoutMs = 15_000): Promise<void> {
    await eventually(async () => {
      await this.poll();
      return this.ids.some((id) => versionOf(id) >= version) ? true : undefined;
    }, timeoutMs, `version ${version}`);
  }

  stop(): void {
    this.reader.stop();
  }
}

describe("`ecwatch serve --workers 2`", () => {
  let stack: TestStack;
  let aggregate: CliProcess | undefined;
  let serve: CliProcess | undefined;
  let api: string;
  let reading = 0;
  const start = Date.now();

  /** Posts the next reading and resolves with the version its change carries. */
  async function nextChange(): Promise<number> {
    reading += 1;
    expect(await post(api, 1_000 + reading, new Date(start + reading * 1_000))).toBe(200);
    const current = await eventually(async () => {
      const res = await fetch(`${api}/communities/${COMMUNITY}`, { headers: { connection: "close" } });
      const body = res.ok ? ((await res.json()) as { genW: number; version: number }) : undefined;
      return body?.genW === 1_000 + reading ? body : undefined;
    });
    return current.version;
  }

  beforeAll(async () => {
    stack = await startTestStack();
    aggregate = new CliProcess(["aggregate", "--nats", stack.natsUrl, "--redis", stack.redisUrl]);
    await aggregate.waitForStderr(/^aggregating /m);
    serve = new CliProcess(["serve", "--workers", "2", "--nats", stack.natsUrl, "--redis", stack.redisUrl, "--port", "0", "--archive-dir", archiveDirOf(stack)]);
    api = (await serve.waitForStderr(/^serving (http:\/\/127\.0\.0\.1:\d+) \(2 workers, /m))[1]!;
    await nextChange();
  }, 60_000);

  afterAll(async () => {
    await Promise.all([stop(serve), stop(aggregate)]);
    await stack?.stop();
  });

  it("gives every client of a community the same ids, in order, never backwards, and honours Last-Event-ID on any worker", { timeout: 60_000 }, async () => {
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => ResumingClient.open(`${api}/communities/${COMMUNITY}/stream`)));
    try {
      let last = 0;
      for (let i = 0; i < 5; i += 1) {
        last = await nextChange();
        await Promise.all(clients.map((client) => client.waitForVersion(last)));
      }
      const reference = clients[0]!.ids;
      const versions = reference.map(versionOf);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(new Set(versions).size).toBe(versions.length);
      expect(versions.at(-1)).toBe(last);
      for (const client of clients) expect(client.ids).toEqual(reference);

      // New clients resuming from the last id (the balancer spreads them over both workers) get nothing again, then the next change.
      const resumed = await Promise.all(Array.from({ length: 4 }, () => SseReader.open(`${api}/communities/${COMMUNITY}/stream`, { "last-event-id": reference.at(-1)! })));
      try {
        const next = await nextChange();
        const firsts = await Promise.all(resumed.map((reader) => reader.waitFor(() => true, 15_000)));
        for (const first of firsts) expect(versionOf(first.id)).toBe(next);
      } finally {
        resumed.forEach((reader) => reader.stop());
      }
    } finally {
      clients.forEach((client) => client.stop());
    }
  });

  it("replaces a worker killed with SIGKILL; its clients reconnect and resume without a repeat or a gap in order", { timeout: 90_000 }, async () => {
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => ResumingClient.open(`${api}/communities/${COMMUNITY}/stream`)));
    try {
      const before = await nextChange();
      await Promise.all(clients.map((client) => client.waitForVersion(before)));

      const workers = childrenOf(serve!.pid);
      expect(workers).toHaveLength(2);
      process.kill(workers[0]!, "SIGKILL");
      await serve!.waitForStderr(new RegExp(`API worker ${workers[0]} exited \\(SIGKILL\\); replacing it`));
      const replaced = await eventually(async () => {
        const now = childrenOf(serve!.pid);
        return now.length === 2 && !now.includes(workers[0]!) ? now : undefined;
      }, 30_000, "a replacement worker");
      expect(replaced).toContain(workers[1]);

      // The killed worker's clients found their stream closed; the others kept theirs.
      for (const client of clients) await client.poll();
      const reconnected = clients.filter((client) => client.reconnects > 0).length;
      expect(reconnected).toBeGreaterThan(0);
      expect(reconnected).toBeLessThan(CLIENTS);

      // The replacement serves: requests on fresh connections reach both workers, and every client gets the next change once.
      await eventually(async () => {
        const res = await fetch(`${api}/healthz`, { headers: { connection: "close" } });
        return res.ok ? true : undefined;
      }, 30_000, "the API ready again");
      const after = await nextChange();
      await Promise.all(clients.map((client) => client.waitForVersion(after)));
      for (const client of clients) {
        const versions = client.ids.map(versionOf);
        expect(versions).toEqual([...versions].sort((a, b) => a - b));
        expect(new Set(versions).size).toBe(versions.length);
        expect(versions.at(-1)).toBe(after);
      }
    } finally {
      clients.forEach((client) => client.stop());
    }
  });

  it("answers a meter's history from every worker, each over the archive with a DuckDB of its own", { timeout: 60_000 }, async () => {
    const segments = await ParquetSegments.open(archiveDirOf(stack));
    try {
      const at = Date.parse("2026-01-10T12:00:00Z");
      const readings = Array.from({ length: 30 }, (_, i) => ({ communityId: COMMUNITY, meterId: "m1", state: { genW: 600, conW: 0, measuredAtMs: at + i * 60_000, seq: i + 1 }, streamSeq: i + 1 }));
      for (const segment of segmentsOf(0, readings, "workers")) await segments.write(segment);
    } finally {
      segments.close();
    }
    // Each request on a connection of its own: the primary hands them to the workers in turn.
    const answers = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const res = await fetch(`${api}/communities/${COMMUNITY}/meters/m1/history?from=2026-01-10T12:00:00Z&to=2026-01-10T12:15:00Z`, { headers: { connection: "close" } });
        return `${res.status} ${await res.text()}`;
      }),
    );
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).toMatch(/^200 \[\{"start":"2026-01-10T12:00:00.000Z","end":"2026-01-10T12:15:00.000Z","genWh":150,/);
  });

  it("serves one /metrics that sums the requests every worker answered, and it passes promtool", { timeout: 60_000 }, async () => {
    const clients = await Promise.all(Array.from({ length: 4 }, () => SseReader.open(`${api}/communities/${COMMUNITY}/stream`)));
    try {
      const requests = 12;
      for (let i = 0; i < requests; i += 1) {
        const res = await fetch(`${api}/openapi.json`, { headers: { connection: "close" } });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }
      // Whichever worker answers the scrape, it counts both workers' requests and clients.
      for (let i = 0; i < 4; i += 1) {
        const res = await fetch(`${api}/metrics`, { headers: { connection: "close" } });
        const text = await res.text();
        const scrape = new Scrape(parseSamples(text));
        expect(scrape.value("ecwatch_api_requests_total", { route: "/openapi.json", status: "200" })).toBe(requests);
        expect(scrape.value("ecwatch_api_sse_clients")).toBe(clients.length);
        if (i === 0) expect(await promtoolCheck(text)).toEqual({ code: 0, output: "" });
      }
    } finally {
      clients.forEach((reader) => reader.stop());
    }
  });
});

describe("the rate limit of `ecwatch serve --workers 2`", () => {
  let stack: TestStack;
  let serve: CliProcess | undefined;

  afterAll(async () => {
    await stop(serve);
    await stack?.stop();
  });

  it("holds per client address across the workers, not twice as loose: each worker takes half", { timeout: 60_000 }, async () => {
    stack = await startTestStack();
    serve = new CliProcess(["serve", "--workers", "2", "--rate-limit", "1/m", "--rate-burst", "10", "--nats", stack.natsUrl, "--redis", stack.redisUrl, "--port", "0"]);
    const api = (await serve.waitForStderr(/^serving (http:\/\/127\.0\.0\.1:\d+) /m))[1]!;
    const statuses: number[] = [];
    for (let i = 0; i < 30; i += 1) statuses.push(await post(api, 1_000, new Date()));
    // 10 at once in all: 5 per worker (a POST may fail upstream here, as no aggregator made the stream; it was let through).
    expect(statuses.filter((status) => status !== 429)).toHaveLength(10);
  });

  it("stops every worker on SIGTERM to the primary, and exits 0", { timeout: 30_000 }, async () => {
    const workers = childrenOf(serve!.pid);
    expect(workers).toHaveLength(2);
    serve!.kill("SIGTERM");
    const exit = await serve!.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(stillRunning(workers)).toEqual([]);
  });

  it("exits 1 with the workers' own error when they cannot start, rather than replacing them in a loop", { timeout: 60_000 }, async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    try {
      const port = (taken.address() as AddressInfo).port;
      const run = await runCli(["serve", "--workers", "2", "--nats", stack.natsUrl, "--redis", stack.redisUrl, "--port", String(port)], { timeoutMs: 45_000 });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`Cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
      expect(run.stderr).toContain("An API worker exited (code 1) before it served.");
    } finally {
      taken.close();
    }
  });
});

import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ApiClient } from "../../src/api-client/api-client.js";
import { ApiClientError, ApiClientErrorCode } from "../../src/api-client/api-client-error.js";
import type { Aggregate } from "../../src/domain/aggregate.js";
import type { FollowStatus } from "../../src/domain/follow-status.js";

// The client against a real node:http server of the test's own (our HTTP, not a mock of it).

const AGGREGATE: Aggregate = {
  communityId: "community1",
  genW: 5_200,
  conW: 3_100,
  netW: 2_100,
  meters: 12,
  stale: 0,
  measuredAt: "2026-11-22T12:34:56.000Z",
  aggregatedAt: "2026-11-22T12:34:56.100Z",
  version: 7,
  epoch: 1795354800000,
};

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** Serves `handle` on a free loopback port; the requests it got are in `seen`. */
async function serve(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = [];
  server = createServer((req, res) => {
    seen.push(req);
    handle(req, res);
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
};

async function rejection(promise: Promise<unknown>): Promise<ApiClientError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApiClientError)) throw new Error(`expected an ApiClientError, got ${String(err)}`);
  return err;
}

/** Resolves once `predicate` holds for the statuses seen, or fails after `timeoutMs`. */
async function until(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the API client's requests", () => {
  it("sends the token as a bearer Authorization header with every request", async () => {
    const { url, seen } = await serve((_req, res) => json(res, 200, AGGREGATE));
    await new ApiClient({ baseUrl: url, token: "s3cret" }).latest("community1");
    expect(seen[0]!.headers.authorization).toBe("Bearer s3cret");
  });

  it("sends no Authorization header without a token", async () => {
    const { url, seen } = await serve((_req, res) => json(res, 200, AGGREGATE));
    await new ApiClient({ baseUrl: url }).latest("community1");
    expect(seen[0]!.headers).not.toHaveProperty("authorization");
  });

  it("asks for the community's path below the base URL, with trailing slashes ignored", async () => {
    const { url, seen } = await serve((_req, res) => json(res, 200, AGGREGATE));
    expect(await new ApiClient({ baseUrl: `${url}//` }).latest("a b")).toEqual(AGGREGATE);
    expect(seen[0]!.url).toBe("/communities/a%20b");
  });

  it("turns a status other than 2xx into an ApiClientError with the status and the API's words", async () => {
    const { url } = await serve((_req, res) => json(res, 404, { error: "no such community" }));
    const err = await rejection(new ApiClient({ baseUrl: url }).latest("nowhere"));
    expect(err.code).toBe(ApiClientErrorCode.Status);
    expect(err.status).toBe(404);
    expect(err.detail).toBe("no such community");
    expect(err.url).toBe(`${url}/communities/nowhere`);
  });

  it("says a 2xx answer that is not what the endpoint promises is a bad body", async () => {
    const { url } = await serve((_req, res) => json(res, 200, { hello: "world" }));
    const err = await rejection(new ApiClient({ baseUrl: url }).kpis("community1", { period: "today" }));
    expect(err.code).toBe(ApiClientErrorCode.BadBody);
    expect(err.status).toBe(200);
  });

  it("says a refused connection is unreachable, with the network error as cause", async () => {
    const { url } = await serve(() => undefined);
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    const err = await rejection(new ApiClient({ baseUrl: url }).communityIds());
    expect(err.code).toBe(ApiClientErrorCode.Unreachable);
    expect(err.status).toBeUndefined();
    expect((err.cause as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
  });

  it("gives up after the request's timeout as unreachable", async () => {
    const { url } = await serve(() => undefined); // never answers
    const started = performance.now();
    const err = await rejection(new ApiClient({ baseUrl: url, timeoutMs: 10_000 }).healthz({ timeoutMs: 100 }));
    expect(err.code).toBe(ApiClientErrorCode.Unreachable);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("returns a 503 of /healthz as an answer, not an error", async () => {
    const { url, seen } = await serve((_req, res) => json(res, 503, { status: "degraded", nats: false, redis: true }));
    expect(await new ApiClient({ baseUrl: url }).healthz()).toEqual({ status: 503, body: JSON.stringify({ status: "degraded", nats: false, redis: true }) });
    expect(seen[0]!.url).toBe("/healthz");
  });

  it("asks for history as CSV or JSON with the query given, and lists the communities' ids", async () => {
    const { url, seen } = await serve((req, res) => {
      if (req.url === "/communities") return json(res, 200, [AGGREGATE, { ...AGGREGATE, communityId: "community2" }]);
      if (req.headers.accept === "text/csv") return void res.writeHead(200, { "content-type": "text/csv" }).end("start,genWh\n");
      json(res, 200, []);
    });
    const api = new ApiClient({ baseUrl: url });
    const params = new URLSearchParams({ from: "-24h", step: "1h" });
    expect(await api.historyCsv("community1", params)).toBe("start,genWh\n");
    expect(await api.history("community1", params)).toEqual([]);
    expect(await api.communityIds()).toEqual(["community1", "community2"]);
    expect(seen.map((req) => [req.url, req.headers.accept])).toEqual([
      ["/communities/community1/history?from=-24h&step=1h", "text/csv"],
      ["/communities/community1/history?from=-24h&step=1h", "application/json"],
      ["/communities", "*/*"],
    ]);
  });
});

describe("the API client's follow", () => {
  it("reconnects after the stream breaks and resumes with the Last-Event-ID it saw", async () => {
    const { url, seen } = await serve((req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
      if (seen.length === 1) res.end(`id: 7\ndata: ${JSON.stringify(AGGREGATE)}\n\n`); // then the connection drops
      else res.write(`id: 8\ndata: ${JSON.stringify({ ...AGGREGATE, version: 8 })}\n\n`);
    });
    const statuses: FollowStatus[] = [];
    const versions: number[] = [];
    const follower = new ApiClient({ baseUrl: url, token: "s3cret" }).follow("community1", (a) => versions.push(a.version), (s) => statuses.push(s));
    try {
      await until(() => versions.length === 2);
    } finally {
      follower.close();
    }
    expect(versions).toEqual([7, 8]);
    expect(seen.map((req) => req.headers["last-event-id"])).toEqual([undefined, "7"]);
    expect(seen.map((req) => req.headers.authorization)).toEqual(["Bearer s3cret", "Bearer s3cret"]);
    expect(seen[0]!.url).toBe("/communities/community1/stream");
    expect(statuses.map((s) => s.state)).toEqual(["connecting", "live", "reconnecting", "connecting", "live"]);
    expect(statuses[2]).toMatchObject({ state: "reconnecting", inMs: 500 });
  });

  it("stops for good when the API refuses the stream with a 401", async () => {
    const { url, seen } = await serve((_req, res) => json(res, 401, { error: "the API token is wrong" }));
    const statuses: FollowStatus[] = [];
    const follower = new ApiClient({ baseUrl: url }).follow("community1", () => undefined, (s) => statuses.push(s));
    try {
      await until(() => statuses.some((s) => s.state === "failed"));
      await new Promise((resolve) => setTimeout(resolve, 700)); // longer than the first back-off
    } finally {
      follower.close();
    }
    expect(statuses.map((s) => s.state)).toEqual(["connecting", "failed"]);
    expect(seen).toHaveLength(1);
  });
});

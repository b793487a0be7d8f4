import { request } from "node:http";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectNats } from "../../src/nats/connect.js";
import { readingsStored } from "../../src/nats/inspect.js";
import type { ApiAccess } from "../../src/api/access.js";
import { MAX_BODY_BYTES } from "../../src/api/server.js";
import type { Aggregate } from "../../src/domain/aggregate.js";
import { type ApiService, startApi, startAggregation, type AggregationService } from "../../src/app/services.js";
import { SseReader } from "../helpers/sse.js";
import { eventually, startTestStack, type TestStack } from "../helpers/stack.js";

// Issue 10: who may write to the API, how often, and from which web pages; on real servers.

const TOKEN = "k7-f3a9-api-token";
let stack: TestStack;
let aggregation: AggregationService;
const apis: Record<"open" | "token" | "limited" | "cors", ApiService> = {} as never;

const ACCESS: Record<keyof typeof apis, ApiAccess> = {
  open: {},
  token: { token: TOKEN },
  // One write an hour after a burst of 2: the third is refused whatever the machine's speed.
  limited: { rateLimit: { perSecond: 1 / 3_600, burst: 2 } },
  cors: { corsOrigins: ["https://app.example.com"], token: TOKEN },
};

/** Readings JetStream holds, over all reading streams. */
async function stored(): Promise<number> {
  const nc = await connectNats(stack.natsUrl, "test-api-access");
  try {
    return await readingsStored(await jetstreamManager(nc));
  } finally {
    await nc.close();
  }
}

beforeAll(async () => {
  stack = await startTestStack();
  aggregation = await startAggregation(stack.natsUrl, stack.redisUrl, { staleAfterMs: 30_000 });
  for (const name of Object.keys(ACCESS) as Array<keyof typeof apis>) {
    apis[name] = await startApi(stack.natsUrl, stack.redisUrl, "127.0.0.1", 0, { access: ACCESS[name] });
  }
});

afterAll(async () => {
  await Promise.all(Object.values(apis).map((api) => api?.stop()));
  await aggregation?.stop();
  await stack?.stop();
});

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A request over node:http, which (unlike fetch) sends any Origin and can choose its source address. */
function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string; from?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? "GET", headers: options.headers, localAddress: options.from }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

let reading = 0;
/** A valid community-level reading, each a second later than the one before. */
function readingBody(communityId: string): string {
  reading += 1;
  return JSON.stringify({ communityId, genW: 1000 + reading, conW: 400, measuredAt: new Date(Date.UTC(2026, 10, 22, 12, 0, 0) + reading * 1000).toISOString() });
}

const post = (api: ApiService, body: string, headers: Record<string, string> = {}, from?: string): Promise<Answer> =>
  send(`${api.url}/communities/`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body, from });

describe("the API token", () => {
  it("refuses a POST without the token: 401 with WWW-Authenticate: Bearer, nothing published", async () => {
    const before = await stored();
    const answer = await post(apis.token, readingBody("tokenless"));
    expect(answer.status).toBe(401);
    expect(answer.headers["www-authenticate"]).toMatch(/^Bearer /);
    expect(JSON.parse(answer.body).error).toContain("Authorization: Bearer");
    // A published reading is acknowledged by JetStream before the API answers: none was.
    expect(await stored()).toBe(before);
  });

  it("refuses a wrong token, and a token sent another way than as a bearer", async () => {
    const wrong = await post(apis.token, readingBody("c1"), { authorization: `Bearer ${TOKEN}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.headers["www-authenticate"]).toMatch(/^Bearer .*error="invalid_token"/);
    expect((await post(apis.token, readingBody("c1"), { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString("base64")}` })).status).toBe(401);
    expect((await post(apis.token, readingBody("c1"), { "x-token": TOKEN })).status).toBe(401);
  });

  it("publishes a POST with the token, and the aggregate reaches an SSE client that sent none", async () => {
    const sse = await SseReader.open(`${apis.token.url}/communities/withtoken/stream`);
    try {
      expect(sse.status).toBe(200);
      const answer = await post(apis.token, readingBody("withtoken"), { authorization: `Bearer ${TOKEN}` });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ status: "published" });
      await eventually(async () => (sse.events.length ? true : undefined), 10_000, "the aggregate on the SSE stream");
      // GETs stay open without a token.
      const got = await send(`${apis.token.url}/communities/withtoken`);
      expect(got.status).toBe(200);
      expect((JSON.parse(got.body) as Aggregate).communityId).toBe("withtoken");
      expect((await send(`${apis.token.url}/communities`)).status).toBe(200);
    } finally {
      sse.stop();
    }
  });

  it("still answers a body over the limit with 413 (after the token is checked)", async () => {
    const big = JSON.stringify({ communityId: "big", genW: 1, conW: 1, pad: "x".repeat(MAX_BODY_BYTES) });
    expect((await post(apis.token, big, { authorization: `Bearer ${TOKEN}` })).status).toBe(413);
    expect((await post(apis.open, big)).status).toBe(413);
  });

  it("without a token configured, takes a POST without one (the loopback default)", async () => {
    expect((await post(apis.open, readingBody("open"))).status).toBe(200);
  });
});

describe("the rate limit on writes", () => {
  it("answers 429 with Retry-After past the burst, per client address, and leaves GETs alone", async () => {
    expect((await post(apis.limited, readingBody("rl"))).status).toBe(200);
    expect((await post(apis.limited, readingBody("rl"))).status).toBe(200);
    const refused = await post(apis.limited, readingBody("rl"));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(refused.body).error).toMatch(/too many/);
    // Another address of the loopback net is another client with its own bucket.
    expect((await post(apis.limited, readingBody("rl"), {}, "127.0.0.2")).status).toBe(200);
    expect((await send(`${apis.limited.url}/communities`)).status).toBe(200);
  });

  it("counts refused tokens too, so guessing is slowed down as much as writing", async () => {
    const api = await startApi(stack.natsUrl, stack.redisUrl, "127.0.0.1", 0, { access: { token: TOKEN, rateLimit: { perSecond: 1 / 3_600, burst: 1 } } });
    try {
      expect((await post(api, readingBody("guess"), { authorization: "Bearer guess-1" })).status).toBe(401);
      expect((await post(api, readingBody("guess"), { authorization: "Bearer guess-2" })).status).toBe(429);
    } finally {
      await api.stop();
    }
  });
});

describe("CORS", () => {
  const origin = "https://app.example.com";

  it("is off by default: no Access-Control-Allow-Origin, no preflight answered", async () => {
    const get = await send(`${apis.open.url}/communities`, { headers: { origin } });
    expect(get.status).toBe(200);
    expect(get.headers["access-control-allow-origin"]).toBeUndefined();
    const preflight = await send(`${apis.open.url}/communities/`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } });
    expect(preflight.status).not.toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("answers the preflight of a configured origin, which may then send the token", async () => {
    const preflight = await send(`${apis.cors.url}/communities/`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBe(origin);
    expect(preflight.headers["access-control-allow-methods"]).toContain("POST");
    expect(preflight.headers["access-control-allow-headers"]).toContain("authorization");
    const posted = await post(apis.cors, readingBody("cors"), { origin, authorization: `Bearer ${TOKEN}` });
    expect(posted.status).toBe(200);
    expect(posted.headers["access-control-allow-origin"]).toBe(origin);
  });

  it("echoes only the configured origins", async () => {
    const get = await send(`${apis.cors.url}/communities`, { headers: { origin: "https://evil.example.com" } });
    expect(get.status).toBe(200);
    expect(get.headers["access-control-allow-origin"]).toBeUndefined();
    expect(get.headers.vary).toContain("Origin");
    const preflight = await send(`${apis.cors.url}/communities/`, { method: "OPTIONS", headers: { origin: "https://evil.example.com", "access-control-request-method": "POST" } });
    expect(preflight.status).not.toBe(204);
    expect(preflight.headers["access-control-allow-origin"]).toBeUndefined();
    expect((await send(`${apis.cors.url}/communities`, { headers: { origin } })).headers["access-control-allow-origin"]).toBe(origin);
  });
});

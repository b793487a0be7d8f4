import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Browser } from "playwright-core";
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AggregationService, type ApiService, startAggregation, startApi } from "../../src/app/services.js";
import { connectNats } from "../../src/nats/connect.js";
import { changeFeedSubject, meterReadingSubject } from "../../src/wire/names.js";
import { launchChromium } from "../helpers/browser.js";
import {
  browserClient,
  curlClient,
  dartStyleClient,
  eventsourceClient,
  eventsourceClientClient,
  fetchEventSourceClient,
  pageServer,
  type SseClientUnderTest,
} from "../helpers/sse-clients.js";
import { eventually, startTestStack, type TestStack } from "../helpers/stack.js";

// Issue 18, point 4: every common SSE client gets every event of a real stack (nats-server,
// the aggregator, the API) and nothing else — no empty or unparsable message, no reconnect
// loop — and resumes with its last id where it can. Keep-alives come every 150 ms here (15 s in
// production), so that several sit between any two events.

const STREAMED = "ssematrix";
const OTHER = "ssematrix-other";
const HEARTBEAT_MS = 150;
const WAIT_MS = 15_000;

let stack: TestStack;
let nc: NatsConnection;
let aggregation: AggregationService;
let api: ApiService;
let apiPort: number;
let page: { url: string; origin: string; server: Server };
let browser: Browser;

/** The API as `ecwatch serve --cors <the page's origin>` would start it, on `port` (0: a free one). */
async function startTheApi(port: number): Promise<ApiService> {
  return startApi(stack.natsUrl, stack.redisUrl, "127.0.0.1", port, { access: { corsOrigins: [page.origin] }, sseHeartbeatMs: HEARTBEAT_MS });
}

beforeAll(async () => {
  stack = await startTestStack();
  nc = await connectNats(stack.natsUrl, "test-sse-clients");
  aggregation = await startAggregation(stack.natsUrl, stack.redisUrl, { staleAfterMs: 30_000 });
  // The page has an origin of its own, as a web app beside the API would: the API serves no
  // pages, and its `--cors` is what lets a page read the stream (and resume with Last-Event-ID).
  page = await pageServer();
  api = await startTheApi(0);
  apiPort = Number(new URL(api.url).port);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await api?.stop();
  await aggregation?.stop();
  await nc?.drain();
  page?.server.close();
  await stack?.stop();
});

/** The community totals, as the test computes them from the readings it published. */
interface Totals {
  readonly genW: number;
  readonly conW: number;
}

let step = 0;
const meterValues = new Map<string, Totals>();

/** Publishes the next reading of STREAMED (meters m1 and m2 in turn) and one of OTHER; returns STREAMED's new totals. */
async function publishNext(): Promise<Totals> {
  step += 1;
  const meterId = step % 2 ? "m1" : "m2";
  const value = { genW: 1000 + 37 * step, conW: 300 + 11 * step };
  const measuredAt = new Date(Date.UTC(2026, 10, 22, 12, 0, step)).toISOString();
  const js = jetstream(nc);
  await js.publish(meterReadingSubject(STREAMED, meterId), JSON.stringify({ meterId, communityId: STREAMED, ...value, measuredAt, seq: step }));
  await js.publish(meterReadingSubject(OTHER, "m1"), JSON.stringify({ meterId: "m1", communityId: OTHER, genW: step, conW: 0, measuredAt, seq: step }));
  meterValues.set(meterId, value);
  return totals();
}

function totals(): Totals {
  let genW = 0;
  let conW = 0;
  for (const value of meterValues.values()) {
    genW += value.genW;
    conW += value.conW;
  }
  return { genW, conW };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** After one wait timed out, the others wait this long: a failing run still ends with its matrix printed. */
const WAIT_AFTER_TIMEOUT_MS = 2_000;
let waitMs = WAIT_MS;

/** Polls until `done` holds; false on timeout (the matrix is printed, then asserted). */
async function settle(done: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if (await done()) return true;
    await sleep(50);
  }
  waitMs = WAIT_AFTER_TIMEOUT_MS;
  return false;
}

/** Resolves once the API serves `value` as STREAMED's aggregate (the aggregator writes the cache behind the change feed). */
async function served(value: Totals): Promise<void> {
  await eventually(async () => {
    const res = await fetch(`${api.url}/communities/${STREAMED}`);
    const body = (await res.json()) as Partial<Totals>;
    return res.status === 200 && body.genW === value.genW && body.conW === value.conW ? true : undefined;
  }, WAIT_MS, `the API to serve ${JSON.stringify(value)}`);
}

/** What one client's messages mean to an application that parses each as an aggregate. */
interface Reading {
  readonly events: Array<Totals & { communityId: unknown; id: string | undefined }>;
  /** Messages that are empty, not JSON, or without integer genW and conW. */
  readonly bad: string[];
}

function read(messages: readonly { data: string; id: string | undefined }[]): Reading {
  const events: Reading["events"] = [];
  const bad: string[] = [];
  for (const { data, id } of messages) {
    try {
      const value = JSON.parse(data) as { communityId: unknown; genW: unknown; conW: unknown };
      if (!Number.isInteger(value.genW) || !Number.isInteger(value.conW)) throw new Error("genW and conW must be integers");
      events.push({ communityId: value.communityId, genW: value.genW as number, conW: value.conW as number, id });
    } catch {
      bad.push(data);
    }
  }
  return { events, bad };
}

/** Resolves once every client has dispatched as many good events as `want` holds for it, the last of them its last. */
async function allReceived(clients: readonly SseClientUnderTest[], want: (client: SseClientUnderTest) => readonly Totals[]): Promise<boolean> {
  return settle(async () => {
    for (const client of clients) {
      const { events } = read(await client.messages());
      const wanted = want(client);
      const last = events.at(-1);
      if (events.length < wanted.length || last?.genW !== wanted.at(-1)?.genW || last?.conW !== wanted.at(-1)?.conW) return false;
    }
    return true;
  });
}

describe("SSE client compatibility matrix", () => {
  it("every client gets every event and nothing else, and resumes with its last id where it can", async () => {
    const streamUrl = `${api.url}/communities/${STREAMED}/stream`;
    // The aggregate exists before the clients connect: each is sent it at once.
    const first = await publishNext();
    await served(first);

    const clients: SseClientUnderTest[] = [
      eventsourceClient(streamUrl),
      eventsourceClientClient(streamUrl),
      fetchEventSourceClient(streamUrl),
      await browserClient(browser, page.url, streamUrl),
      curlClient(streamUrl),
      dartStyleClient(streamUrl),
    ];
    /** The events each client should have dispatched so far, in order. */
    const want = new Map(clients.map((client) => [client, [first]]));
    const willGet = (value: Totals, to: readonly SseClientUnderTest[] = clients): void => to.forEach((client) => want.get(client)!.push(value));
    const received = (): Promise<boolean> => allReceived(clients, (client) => want.get(client)!);
    const progress: string[] = [];
    const note = (what: string, ok: boolean): void => void progress.push(`${what}: ${ok ? "ok" : "timed out"}`);
    /**
     * Stops the API (every stream ends), runs `meanwhile`, and starts it again on the same port;
     * once it serves the current value, the clients that do not reconnect by themselves are run again.
     */
    const restartApi = async (meanwhile: () => Promise<void>): Promise<void> => {
      await api.stop();
      await meanwhile();
      api = await startTheApi(apiPort);
      await served(totals());
      for (const client of clients) if (client.resume !== "auto") client.reconnect();
    };

    try {
      note("the current value on connect", await received());
      // Live changes, with keep-alives between them.
      for (let i = 1; i <= 5; i += 1) {
        willGet(await publishNext());
        note(`change ${i}`, await received());
        await sleep(2 * HEARTBEAT_MS);
      }

      // The API goes away and comes back, with no change to STREAMED meanwhile: a client that
      // resumes with its last id is sent nothing; one without ids gets the current value again.
      await restartApi(async () => undefined);
      willGet(totals(), clients.filter((client) => client.resume === "none"));
      note("all reconnected after the first restart", await settle(async () => (await Promise.all(clients.map((c) => c.opens()))).every((n) => n >= 2)));
      note("after the first restart", await received());
      await sleep(4 * HEARTBEAT_MS);

      // Again, with a change while the API is away: every client is sent the current value once.
      await restartApi(async () => {
        const changed = nc.subscribe(changeFeedSubject(STREAMED), { max: 1 });
        willGet(await publishNext());
        await changed[Symbol.asyncIterator]().next();
      });
      note("after the second restart", await received());

      // And the stream goes on.
      willGet(await publishNext());
      note("a change after the restarts", await received());
      await sleep(4 * HEARTBEAT_MS);

      const rows = await Promise.all(
        clients.map(async (client) => {
          const { events, bad } = read(await client.messages());
          const wanted = want.get(client)!.map((t) => ({ communityId: STREAMED, ...t }));
          const got = events.map(({ communityId, genW, conW }) => ({ communityId, genW, conW }));
          const ids = events.map((e) => e.id);
          return { client, want: wanted, got, bad, ids, reconnects: (await client.opens()) - 1 };
        }),
      );
      // Resumed: after the restart without a change it was sent nothing, which takes its last id
      // (without one, the API sends the current value again), and after the other the new value once.
      const matrix = rows.map(({ client, want, got, bad, ids, reconnects }) => ({
        client: client.name,
        "events expected": want.length,
        received: got.length,
        "values match": JSON.stringify(got) === JSON.stringify(want) ? "yes" : "no",
        "empty/bad messages": bad.length,
        reconnects: `${reconnects} (2 caused)`,
        resumed: client.resume === "none" ? "n/a (reads no ids)" : JSON.stringify(got) === JSON.stringify(want) && ids.every(Boolean) ? `yes (${client.resume})` : "no",
      }));
      console.log(`SSE client compatibility matrix (${progress.join("; ")})`);
      console.table(matrix);

      for (const { client, want, got, bad, ids, reconnects } of rows) {
        expect({ client: client.name, bad: bad.length, firstBad: bad.slice(0, 3) }).toEqual({ client: client.name, bad: 0, firstBad: [] });
        expect({ client: client.name, got }).toEqual({ client: client.name, got: want });
        expect({ client: client.name, reconnects }).toEqual({ client: client.name, reconnects: 2 });
        // Ids are opaque: present on every event of a client that reads them, and never the same twice in a row.
        if (client.resume !== "none") {
          expect(ids.every((id) => typeof id === "string" && id.length > 0), `${client.name} ids ${JSON.stringify(ids)}`).toBe(true);
          expect(ids.some((id, i) => i > 0 && id === ids[i - 1]), `${client.name} ids ${JSON.stringify(ids)}`).toBe(false);
        }
      }
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  }, 120_000);
});

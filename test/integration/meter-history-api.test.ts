/**
 * GET /communities/{id}/meters/{meterId}/history on real servers (issue 23): readings published to
 * JetStream, archived by a real archiver, integrated from the archive by the API; for a one-meter
 * community the meter's buckets equal the aggregator's community history, bucket by bucket, to the
 * watt-hour — a 1-minute meter with a learned cadence and a gap, and a 15-minute averaged gateway.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ArchiveService, startArchiving } from "../../src/app/archive.js";
import { type AggregationService, type ApiService, startAggregation, startApi } from "../../src/app/services.js";
import { type Bus, openBus } from "../../src/nats/bus.js";
import { PARTITIONS, archiveConsumer, meterReadingSubject, partitionStream } from "../../src/wire/names.js";
import { eventually, startTestStack, type TestStack } from "../helpers/stack.js";

const MINUTE = 60_000;
const QUARTER = 15 * MINUTE;
const T0 = Date.UTC(2026, 0, 10, 12);
const END = T0 + 3 * 60 * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString();

interface Bucket {
  start: string;
  genWh: number;
  conWh: number;
  importWh: number;
  exportWh: number;
  sharedWh: number;
  complete: boolean;
}

let stack: TestStack;
let bus: Bus;
let aggregation: AggregationService;
let archiving: ArchiveService;
let api: ApiService;
let dir: string;

async function publish(communityId: string, meterId: string, reading: Record<string, unknown>, msgId: string): Promise<void> {
  await bus.js.publish(meterReadingSubject(communityId, meterId), JSON.stringify({ communityId, meterId, ...reading }), { msgID: msgId });
}

/** A 1-minute meter (cadence learned) of community solo1 from 11:30 to 15:00 with up to 20 s of jitter, silent 13:00–13:40; a few readings archived twice. */
async function publishMinuteMeter(): Promise<void> {
  for (let i = 0, at = T0 - 30 * MINUTE; at < END; i += 1, at += MINUTE) {
    if (at >= T0 + 60 * MINUTE && at < T0 + 100 * MINUTE) continue;
    const measuredAtMs = at + ((i * 7_919) % 20_000);
    const reading = { genW: (i * 37) % 900, conW: 200 + ((i * 53) % 700), measuredAt: iso(measuredAtMs), seq: i + 1 };
    await publish("solo1", "pv1", reading, `solo1.pv1.${i + 1}`);
    // The same reading again under another message id: the stream (and so the archive) holds it twice.
    if (i % 17 === 0) await publish("solo1", "pv1", reading, `solo1.pv1.${i + 1}.again`);
  }
}

/** A 15-minute gateway of community solo2, averaged values stamped 12:15 … 15:00. */
async function publishGateway(): Promise<void> {
  for (let i = 1; T0 + i * QUARTER <= END; i += 1) {
    const reading = { genW: (i * 331) % 5_000, conW: 400 + ((i * 97) % 1_500), measuredAt: iso(T0 + i * QUARTER), seq: i, intervalMs: QUARTER, averaged: true };
    await publish("solo2", "gw1", reading, `solo2.gw1.${i}`);
  }
}

const get = (url: string, path: string) => fetch(`${url}${path}`, { signal: AbortSignal.timeout(20_000) });
async function getBuckets(path: string): Promise<Bucket[]> {
  const res = await get(api.url, path);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Bucket[];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ecwatch-meter-history-"));
  stack = await startTestStack();
  aggregation = await startAggregation(stack.natsUrl, stack.redisUrl, { staleAfterMs: 30_000 });
  archiving = await startArchiving(stack.natsUrl, join(dir, "archive"), { flushMs: 300 });
  api = await startApi(stack.natsUrl, stack.redisUrl, "127.0.0.1", 0, { archiveDir: join(dir, "archive"), staleAfterMs: 30_000 });
  bus = await openBus(stack.natsUrl, "meter-history-test");
  await Promise.all([publishMinuteMeter(), publishGateway()]);
  // Everything archived …
  await eventually(
    async () => {
      const infos = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => bus.jsm.consumers.info(partitionStream(p), archiveConsumer(p))));
      return infos.every((info) => info.num_pending + info.num_ack_pending === 0) ? true : undefined;
    },
    60_000,
    "the archiver to acknowledge everything",
  );
  // … and aggregated: both communities' energy final up to their last readings' grace.
  for (const [community, finalUntil] of [["solo1", END - 5 * MINUTE], ["solo2", END - 45 * MINUTE]] as const) {
    await eventually(
      async () => {
        const buckets = (await (await get(api.url, `/communities/${community}/history?from=${iso(T0)}&to=${iso(END)}&step=15m`)).json()) as Bucket[];
        const lastFinal = buckets.filter((b) => b.complete).at(-1);
        return lastFinal && Date.parse(lastFinal.start) + 2 * QUARTER >= finalUntil ? true : undefined;
      },
      60_000,
      `${community}'s energy to be final`,
    );
  }
}, 180_000);

afterAll(async () => {
  await bus?.close();
  await api?.stop();
  await archiving?.stop();
  await aggregation?.stop();
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a meter's history from the archive", () => {
  it.each([
    ["solo1", "pv1", "15m"],
    ["solo1", "pv1", "1h"],
    ["solo1", "pv1", "1m"],
    ["solo2", "gw1", "15m"],
    ["solo2", "gw1", "1h"],
  ])("equals the aggregator's history of %s, its only meter %s, at step %s for every final bucket", async (community, meter, step) => {
    const query = `from=${iso(T0)}&to=${iso(END)}&step=${step}`;
    const [aggregated, fromArchive] = await Promise.all([getBuckets(`/communities/${community}/history?${query}`), getBuckets(`/communities/${community}/meters/${meter}/history?${query}`)]);
    const final = (buckets: Bucket[]) => buckets.filter((b) => b.complete);
    expect(final(fromArchive)).toEqual(final(aggregated));
    expect(final(fromArchive).length).toBeGreaterThanOrEqual(step === "1h" ? 2 : 8);
    // What is not final yet is shown too, in buckets marked so: the meter's newest quarter hours.
    expect(fromArchive.at(-1)).toMatchObject({ complete: false });
    expect(fromArchive.at(-1)!.genWh + fromArchive.at(-1)!.conWh).toBeGreaterThan(0);
  });

  it("leaves the minutes a meter was silent for out, after its last reading's hold", async () => {
    const minutes = await getBuckets(`/communities/solo1/meters/pv1/history?from=${iso(T0 + 60 * MINUTE)}&to=${iso(T0 + 100 * MINUTE)}&step=1m`);
    // The 12:59:xx reading holds 60 s + 30 s: energy in at most the three minutes from 12:59 on, none after.
    expect(minutes.length).toBeGreaterThan(0);
    expect(minutes.every((b) => Date.parse(b.start) < T0 + 63 * MINUTE)).toBe(true);
  });

  it("is a 404 for a meter the archive has no reading of, a 400 naming a bad parameter", async () => {
    const unknown = await get(api.url, "/communities/solo1/meters/nope/history");
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: "meter nope of community solo1 has no reading in the archive" });
    const bad = await get(api.url, "/communities/solo1/meters/pv1/history?step=5m");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain("step must be one of");
  });

  it("is a 503 saying how to start an archive, from an API whose archive directory does not exist", async () => {
    const missing = join(dir, "no-archive-here");
    const other = await startApi(stack.natsUrl, stack.redisUrl, "127.0.0.1", 0, { archiveDir: missing });
    try {
      const res = await get(other.url, "/communities/solo1/meters/pv1/history");
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: `there is no archive of readings at ${missing} yet: run \`ecwatch archive --dir ${missing}\` beside the aggregator to keep them` });
    } finally {
      await other.stop();
    }
  });
});

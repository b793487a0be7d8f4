import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { Aggregate } from "../../src/domain/aggregate.js";
import { count, dose, servedTruth, underLoad } from "../helpers/faults.js";
import { SseReader } from "../helpers/sse.js";
import { StuckClient } from "../helpers/stuck-client.js";
import { eventually, usePipeline } from "../helpers/stack.js";

const pipeline = usePipeline();

/** Short intervals: many small batches, so many versions of each community go out (~100/s here). */
const SHAPE = { communities: 2, meters: 10, rate: 4_000 };
const LOAD_MS = dose(10_000, 60_000);
const FAST_CLIENTS = 5;
/**
 * What the API may hold for one client: its socket's high-water mark (16 KiB) plus one event,
 * with room to spare. A queue of every event would pass it within seconds of the client's
 * kernel buffers filling (~20 KB of events a second at this load).
 */
const PENDING_BOUND = 32 * 1024;

const versionsOf = (reader: SseReader): number[] => reader.events.map((e) => (JSON.parse(e.data) as Aggregate).version);

describe("a stuck SSE client under load", () => {
  it("costs the API a bounded buffer, gets the newest value once it reads, and holds back no other client", { timeout: dose(120_000, 240_000) }, async () => {
    const api = pipeline.api;
    const path = "/communities/community1/stream";
    const fast = await Promise.all(Array.from({ length: FAST_CLIENTS }, () => SseReader.open(`${api.url}${path}`)));
    const stuck = StuckClient.open(Number(new URL(api.url).port), path);
    try {
      await eventually(async () => (api.hub.clientCount() === FAST_CLIENTS + 1 ? true : undefined), 10_000, "every client to join the hub");

      let maxPending = 0;
      const sampler = setInterval(() => api.hub.forEachClient((client) => (maxPending = Math.max(maxPending, client.pendingBytes))), 20);
      // At least LOAD_MS, and on a busy machine (fewer versions a second) until the others were
      // offered enough that the kernels' share (~50 KB) cannot hide a queue: else this proves nothing.
      const offered = (): number => fast[0]!.events.reduce((sum, e) => sum + e.data.length, 0);
      const { result } = await underLoad(pipeline.stack.natsUrl, SHAPE, async () => {
        await sleep(LOAD_MS);
        await eventually(async () => (offered() > 2 * PENDING_BOUND + 96 * 1024 ? true : undefined), 60_000, "enough events for back-pressure");
      }).finally(() => clearInterval(sampler));
      expect(result.acked).toBe(result.sent);
      const final = (await servedTruth(api.url, result.truth)).get("community1")!.aggregate!.version;

      // Every other client has every version, in order, up to the newest, while the stuck one still does not read.
      for (const reader of fast) await reader.waitFor((e) => (JSON.parse(e.data) as Aggregate).version === final, 10_000);
      const seen = versionsOf(fast[0]!);
      for (const reader of fast) {
        const versions = versionsOf(reader);
        expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => versions[0]! + i));
        expect(versions.at(-1)).toBe(final);
      }

      // The stuck client woke up: it reads what the kernels held, then the one newest event the API kept.
      stuck.resume();
      await eventually(async () => (stuck.versions().at(-1) === final ? true : undefined), 20_000, "the stuck client to get the newest version");
      const stuckVersions = stuck.versions();
      expect(stuckVersions).toEqual([...new Set(stuckVersions)].sort((a, b) => a - b));
      const got = new Set(stuckVersions);
      const skipped = fast[0]!.events.filter((e) => !got.has((JSON.parse(e.data) as Aggregate).version));
      const skippedBytes = skipped.reduce((sum, e) => sum + e.data.length, 0);
      // The API kept no queue; and back-pressure did happen, long enough that a queue of every
      // event would have passed the bound (else this test proves nothing).
      expect(maxPending).toBeLessThan(PENDING_BOUND);
      expect(skippedBytes, "the stuck client's buffers did not fill for long: raise the load").toBeGreaterThan(2 * PENDING_BOUND);
      const offeredBytes = offered();
      console.log(
        `stuck SSE client under ${count(SHAPE.rate)} readings/s (${SHAPE.communities} communities × ${SHAPE.meters} meters, ${count(result.acked)} readings): ` +
          `${FAST_CLIENTS} other clients got all ${count(seen.length)} versions in order; the API held at most ${count(maxPending)} B for the stuck one ` +
          `(of ${count(offeredBytes)} B of events), which was not dropped and, reading again, got the newest (v${final}) after skipping ${count(skipped.length)} versions (${count(skippedBytes)} B); totals exact`,
      );
    } finally {
      stuck.stop();
      fast.forEach((reader) => reader.stop());
    }
  });
});

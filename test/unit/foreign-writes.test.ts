import { afterEach, describe, expect, it } from "vitest";
import { Aggregator } from "../../src/aggregator/aggregator.js";
import type { ForeignWrite } from "../../src/aggregator/foreign-writes.js";
import type { AggregatorOptions } from "../../src/aggregator/options.js";
import { ecwatchAggregateFromJson } from "../../src/domain/aggregate.js";
import { partitionOf } from "../../src/wire/names.js";
import { fakePorts, meterMessage } from "../helpers/aggregator-fakes.js";

const COMMUNITY = "c1";
const PARTITION = partitionOf(COMMUNITY);
/** What the prototype's aggregator writes: Python's json.dumps of three fields. */
const PROTOTYPE_VALUE = '{"genW": 5200, "conW": 3100, "measuredAt": "2026-06-21T12:00:00Z"}';

async function until(condition: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const running: Aggregator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((aggregator) => aggregator.stop()));
});

/** An aggregator on fakes that has aggregated one reading of c1. */
async function aggregating(options: AggregatorOptions = {}, ports = fakePorts()) {
  const reports: ForeignWrite[] = [];
  const aggregator = await Aggregator.start(ports, { retryDelayMs: 5, cacheCheckIntervalMs: 20, onForeignWrite: (write) => reports.push(write), ...options });
  running.push(aggregator);
  const msg = meterMessage({ communityId: COMMUNITY, meterId: "m1", genW: 500, conW: 200, measuredAt: "2026-06-21T12:00:00.000Z", seq: 1 });
  ports.readings.deliver(PARTITION, msg);
  await until(() => msg.settled === "ack", "the first aggregate");
  const own = (json: string | undefined) => (json === undefined ? undefined : ecwatchAggregateFromJson(json, COMMUNITY));
  return { ports, aggregator, reports, kv: () => own(ports.latest.values.get(COMMUNITY)), redis: () => own(ports.cache.values.get(COMMUNITY)) };
}

describe("an aggregator beside another writer of its keys", () => {
  it("writes its own value back over a foreign one in KV, as a new version, and counts it", async () => {
    const { ports, aggregator, reports, kv } = await aggregating();
    const before = kv()!.version;
    ports.latest.write(COMMUNITY, PROTOTYPE_VALUE);
    await until(() => kv() !== undefined, "the value written back");
    expect(kv()).toMatchObject({ genW: 500, conW: 200, version: before + 1 });
    expect(aggregator.stats.foreignKv).toBe(1);
    expect(reports).toEqual([{ communityId: COMMUNITY, store: "kv", seen: 1, restored: true }]);
    // Announced too: an SSE client that connected meanwhile (and got no value) gets it.
    expect(ecwatchAggregateFromJson(ports.changes.announced.at(-1)!.json, COMMUNITY)?.version).toBe(before + 1);
  });

  it("writes its own value back over a foreign one in the cache, found by reading the cache back", async () => {
    const { ports, aggregator, redis } = await aggregating();
    ports.cache.values.set(COMMUNITY, PROTOTYPE_VALUE);
    await until(() => redis() !== undefined, "the cache written back");
    expect(redis()).toMatchObject({ genW: 500, conW: 200 });
    expect(aggregator.stats.foreignRedis).toBeGreaterThanOrEqual(1);
  });

  it("takes a missing cache key, or an older value of its own, for no foreign write", async () => {
    const { ports, aggregator, kv } = await aggregating();
    const older = JSON.stringify({ ...kv()!, version: kv()!.version - 1 || 1, genW: 400, netW: 200 });
    ports.cache.values.delete(COMMUNITY);
    ports.latest.write(COMMUNITY, older);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(aggregator.stats).toMatchObject({ foreignKv: 0, foreignRedis: 0 });
  });

  it("reports a community's foreign writes once per interval, with how many it saw", async () => {
    const { ports, aggregator, reports, kv } = await aggregating({ reportIntervalMs: 60_000 });
    for (let i = 0; i < 3; i++) {
      ports.latest.write(COMMUNITY, PROTOTYPE_VALUE);
      await until(() => kv() !== undefined, "the value written back");
    }
    expect(aggregator.stats.foreignKv).toBe(3);
    expect(reports).toHaveLength(1);
  });

  it("only the owner of a community's partition writes it back and counts it", async () => {
    const { ports, aggregator, kv } = await aggregating({ leaseTtlMs: 200 });
    const second = await Aggregator.start(ports, { leaseTtlMs: 200 });
    running.push(second);
    await until(() => aggregator.partitions.length + second.partitions.length === 8 && second.partitions.length > 0, "the partitions shared", 5_000);
    const [owner, other] = aggregator.partitions.includes(PARTITION) ? [aggregator, second] : [second, aggregator];
    ports.latest.write(COMMUNITY, PROTOTYPE_VALUE);
    // The new owner of c1 (if it moved) starts from the snapshot: it writes its value back all the same.
    await until(() => kv() !== undefined, "the value written back", 3_000);
    expect(owner.stats.foreignKv).toBe(1);
    expect(other.stats.foreignKv).toBe(0);
  });

  it("on taking a partition, writes its own value back over a foreign one left in KV", async () => {
    const ports = fakePorts();
    const { aggregator, kv } = await aggregating({}, ports);
    await aggregator.stop();
    running.splice(0);
    ports.latest.values.set(COMMUNITY, PROTOTYPE_VALUE);
    const reports: ForeignWrite[] = [];
    const next = await Aggregator.start(ports, { onForeignWrite: (write) => reports.push(write) });
    running.push(next);
    await until(() => kv() !== undefined, "the value written back");
    expect(kv()).toMatchObject({ genW: 500, conW: 200 });
    expect(next.stats.foreignKv).toBeGreaterThanOrEqual(1);
    expect(reports[0]).toMatchObject({ communityId: COMMUNITY, store: "kv", restored: true });
  });
});

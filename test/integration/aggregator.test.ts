import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, openBus } from "../../src/nats/bus.js";
import { connectNats } from "../../src/nats/connect.js";
import { latestKey, meterReadingSubject } from "../../src/wire/names.js";
import type { Aggregate } from "../../src/domain/aggregate.js";
import { deltaNumber, shardCountFor } from "../../src/aggregator/snapshot-shards.js";
import { startAggregation } from "../../src/app/services.js";
import { eventually, startTestStack, type TestStack } from "../helpers/stack.js";

let stack: TestStack;
let nc: NatsConnection;
let bus: Bus;

beforeAll(async () => {
  stack = await startTestStack();
  nc = await connectNats(stack.natsUrl, "test-aggregator");
  bus = await openBus(stack.natsUrl, "test-aggregator-bus");
});

afterAll(async () => {
  await bus?.close();
  await nc?.drain();
  await stack?.stop();
});

const reading = (communityId: string, meterId: string, genW: number, second: number) => ({
  meterId,
  communityId,
  genW,
  conW: 0,
  measuredAt: new Date(Date.UTC(2026, 10, 22, 12, 0, second)).toISOString(),
  seq: second,
});

async function latestOf(communityId: string): Promise<Aggregate | undefined> {
  const entry = await bus.latest.get(latestKey(communityId));
  return entry?.operation === "PUT" ? entry.json<Aggregate>() : undefined;
}

describe("the aggregator", () => {
  it("two aggregators share the partitions; one's stop hands its partitions over, and the totals stay exact", async () => {
    const js = jetstream(nc);
    const communities = Array.from({ length: 16 }, (_, i) => `share${i}`);
    const publishRound = (second: number) =>
      Promise.all(communities.flatMap((id, i) => ["a", "b"].map((meter) => js.publish(meterReadingSubject(id, meter), JSON.stringify(reading(id, meter, 100 * i + second, second))))));
    const exact = (second: number) =>
      eventually(
        async () => {
          const latest = await Promise.all(communities.map(latestOf));
          return latest.every((aggregate, i) => aggregate?.genW === 2 * (100 * i + second)) ? true : undefined;
        },
        20_000,
        `every community at second ${second}`,
      );

    const first = await startAggregation(stack.natsUrl, stack.redisUrl);
    const second = await startAggregation(stack.natsUrl, stack.redisUrl).catch(async (err) => {
      await first.stop();
      throw err;
    });
    try {
      expect(first.aggregator.partitions).toHaveLength(8);
      // Within a rebalance or two each owns half, and none a partition of the other.
      await eventually(async () => (first.aggregator.partitions.length === 4 && second.aggregator.partitions.length === 4 ? true : undefined), 15_000, "an even share");
      expect([...first.aggregator.partitions, ...second.aggregator.partitions].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      await publishRound(1);
      await exact(1);
      expect(first.aggregator.stats.readings).toBeGreaterThan(0);
      expect(second.aggregator.stats.readings).toBeGreaterThan(0);

      await first.stop();
      await eventually(async () => (second.aggregator.partitions.length === 8 ? true : undefined), 15_000, "the other aggregator to take every partition");
      await publishRound(2);
      await exact(2);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  it("after a crash between storing the aggregate and the snapshot, a redelivered reading gives a newer version", async () => {
    // What a crash leaves: ec_latest at version 10 holds meter b, the snapshot (version 9) does not.
    await bus.state.put("crash1", JSON.stringify({ version: 9, meters: { a: [100, 0, Date.UTC(2026, 10, 22, 12, 0, 1), 1] } }));
    const stored = { communityId: "crash1", genW: 300, conW: 0, netW: 300, meters: 2, stale: 0, measuredAt: "2026-11-22T12:00:02.000Z", aggregatedAt: "2026-11-22T12:00:03.000Z", version: 10 };
    await bus.latest.put(latestKey("crash1"), JSON.stringify(stored));

    const aggregation = await startAggregation(stack.natsUrl, stack.redisUrl);
    try {
      await jetstream(nc).publish(meterReadingSubject("crash1", "b"), JSON.stringify(reading("crash1", "b", 200, 2)));
      const after = await eventually(async () => {
        const latest = await latestOf("crash1");
        return latest && latest.version > 10 ? latest : undefined;
      });
      expect(after).toMatchObject({ genW: 300, meters: 2, version: 11 });
    } finally {
      await aggregation.stop();
    }
  });

  // Generous: 5,000 publishes and their aggregation share two cores with the rest of the suite.
  it("keeps a community larger than one KV value exact, in shards", { timeout: 120_000 }, async () => {
    const meters = 5_000;
    const aggregation = await startAggregation(stack.natsUrl, stack.redisUrl);
    try {
      const js = jetstream(nc);
      for (let from = 0; from < meters; from += 500) {
        const chunk = Array.from({ length: Math.min(500, meters - from) }, (_, k) => from + k);
        await Promise.all(chunk.map((i) => js.publish(meterReadingSubject("big1", `m${i}`), JSON.stringify(reading("big1", `m${i}`, i, 5)))));
      }
      const expected = (meters * (meters - 1)) / 2;
      const latest = await eventually(async () => {
        const value = await latestOf("big1");
        return value?.genW === expected ? value : undefined;
      }, 60_000, "all meters of big1");
      expect(latest.meters).toBe(meters);
      // The snapshot is stored after the aggregate: wait for the layout to settle. Beside
      // the shards, later writes of a few meters may have left deltas (`big1.d<n>`).
      const layout = Array.from({ length: shardCountFor(meters) }, (_, index) => `big1.${index}`).sort();
      const keys = await eventually(async () => {
        const found: string[] = [];
        for await (const key of await bus.state.keys()) if (key.startsWith("big1") && deltaNumber(key) === undefined) found.push(key);
        return found.sort().join() === layout.join() ? found.sort() : undefined;
      }, 10_000, `the snapshot of big1 in ${layout.length} shards`);
      expect(keys).toEqual(layout);
      // A few meters change: only they are stored, as a delta beside the shards.
      await Promise.all(Array.from({ length: 100 }, (_, i) => js.publish(meterReadingSubject("big1", `m${i + 1}`), JSON.stringify(reading("big1", `m${i + 1}`, i + 1 + 10, 6)))));
      await eventually(async () => ((await latestOf("big1"))?.genW === expected + 100 * 10 ? true : undefined), 20_000, "the changed meters in the totals");
      await eventually(async () => {
        for await (const key of await bus.state.keys()) if (key.startsWith("big1.") && deltaNumber(key) !== undefined) return true;
        return undefined;
      }, 10_000, "a delta of big1");
    } finally {
      await aggregation.stop();
    }
    // A restarted aggregator rebuilds it from the shards and the deltas.
    const again = await startAggregation(stack.natsUrl, stack.redisUrl);
    try {
      await jetstream(nc).publish(meterReadingSubject("big1", "m0"), JSON.stringify(reading("big1", "m0", 1_000_000, 6)));
      const latest = await eventually(async () => {
        const value = await latestOf("big1");
        return value && value.genW === (meters * (meters - 1)) / 2 + 100 * 10 + 1_000_000 ? value : undefined;
      });
      expect(latest.meters).toBe(meters);
    } finally {
      await again.stop();
    }
  });
});

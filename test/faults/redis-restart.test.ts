import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { latestCacheKey } from "../../src/redis/redis-cache.js";
import { type Aggregate, aggregateFromJson } from "../../src/domain/aggregate.js";
import { count, dose, equalsTruth, getCommunity, servedTruth, underLoad } from "../helpers/faults.js";
import { eventually, usePipeline } from "../helpers/stack.js";

const pipeline = usePipeline();

const SHAPE = { communities: 4, meters: 300, rate: 3_000 };
const ROUNDS = dose(2, 6);
/** Load before each restart, and how long redis-server stays away. */
const BETWEEN_MS = dose(3_000, 10_000);
const OUTAGE_MS = dose(2_000, 5_000);

/** Every community's value in Redis itself (not through the API, whose misses refill it). */
async function cached(redisUrl: string, ids: readonly string[]): Promise<Array<Aggregate | undefined>> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await redis.connect();
    const values = await redis.mget(ids.map(latestCacheKey));
    return values.map((json) => (json === null ? undefined : aggregateFromJson(json)));
  } finally {
    redis.disconnect();
  }
}

describe("redis-server restarted empty under load", () => {
  it("the API answers from KV meanwhile, Redis is refilled, and the totals end exact", async () => {
    const api = pipeline.api.url;
    const ids = Array.from({ length: SHAPE.communities }, (_, i) => `community${i + 1}`);
    let kvAnswers = 0;
    const refillMs: number[] = [];
    const { result } = await underLoad(pipeline.stack.natsUrl, SHAPE, async () => {
      await eventually(async () => ((await Promise.all(ids.map((id) => getCommunity(api, id)))).every((s) => s.source === "redis") ? true : undefined), 20_000, "every community in Redis");

      for (let round = 1; round <= ROUNDS; round += 1) {
        await sleep(BETWEEN_MS);
        // While redis-server is away, every GET is answered from KV, and the aggregator goes on.
        const served = await pipeline.stack.restartRedis(async () => {
          const versions = new Map<string, number[]>(ids.map((id) => [id, []]));
          // At least OUTAGE_MS, and until every community was seen aggregated anew (on a loaded
          // machine a GET can take long enough that OUTAGE_MS holds only one per community).
          const advanced = (): boolean => [...versions.values()].every((seen) => seen.length > 1 && seen.at(-1)! > seen[0]!);
          for (const until = Date.now() + OUTAGE_MS, limit = Date.now() + 5 * OUTAGE_MS; Date.now() < until || (!advanced() && Date.now() < limit); ) {
            for (const id of ids) {
              const s = await getCommunity(api, id);
              expect(s, `GET /communities/${id} during the outage`).toMatchObject({ status: 200, source: "kv" });
              versions.get(id)!.push(s.aggregate!.version);
              kvAnswers += 1;
            }
          }
          return versions;
        });
        for (const [id, seen] of served) expect(seen.at(-1), `${id} aggregated during the outage`).toBeGreaterThan(seen[0]!);

        // The aggregator fills the new, empty redis-server by itself, with values at least as new as KV's then.
        const restartedAt = performance.now();
        await eventually(
          async () => ((await cached(pipeline.stack.redisUrl, ids)).every((a, i) => a !== undefined && a.version >= served.get(ids[i]!)!.at(-1)!) ? true : undefined),
          20_000,
          "the aggregator to refill Redis",
        );
        refillMs.push(performance.now() - restartedAt);
      }
    });

    const lost = result.sent - result.acked;
    expect(lost).toBe(0);
    const served = await servedTruth(api, result.truth);
    for (const [id, s] of served) expect(s.source, `${id} after the load`).toBe("redis");
    const inRedis = await cached(pipeline.stack.redisUrl, ids);
    ids.forEach((id, i) => expect(equalsTruth(inRedis[i], result.truth[id]), `${id} in Redis`).toBe(true));
    console.log(
      `restarted redis-server empty ${ROUNDS}× under ${count(SHAPE.rate)} readings/s (${SHAPE.communities} communities × ${SHAPE.meters} meters, ${count(result.acked)} readings): ` +
        `API answered from KV during the outage${ROUNDS > 1 ? "s" : ""} (${count(kvAnswers)} GETs), Redis refilled by the aggregator within ${(Math.max(...refillMs) / 1000).toFixed(1)} s, ${lost} lost, totals exact`,
    );
  }, dose(90_000, 300_000));
});

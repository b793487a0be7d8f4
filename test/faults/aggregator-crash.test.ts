import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { connectNats } from "../../src/nats/connect.js";
import { changeFeedSubject } from "../../src/wire/names.js";
import type { Aggregate } from "../../src/domain/aggregate.js";
import { type ApiService, startApi } from "../../src/app/services.js";
import { CliProcess } from "../helpers/cli.js";
import { STALE_AFTER_MS, count, dose, servedTruth, underLoad } from "../helpers/faults.js";
import { type TestStack, startTestStack } from "../helpers/stack.js";

let stack: TestStack;
let api: ApiService;

beforeAll(async () => {
  stack = await startTestStack();
  api = await startApi(stack.natsUrl, stack.redisUrl, "127.0.0.1", 0);
});

afterAll(async () => {
  await api?.stop();
  await stack?.stop();
});

const SHAPE = { communities: 10, meters: 50, rate: 5_000 };
const KILLS = dose(5, 25);

/** `ecwatch aggregate` as a process of its own, resolved once it is aggregating. */
async function startAggregator(): Promise<CliProcess> {
  const aggregator = new CliProcess(["aggregate", "--nats", stack.natsUrl, "--redis", stack.redisUrl, "--stale-after", `${STALE_AFTER_MS}ms`]);
  await aggregator.waitForStderr(/aggregating /);
  return aggregator;
}

it(`kill -9 of an aggregator, ${KILLS}× under ${count(SHAPE.rate)} readings/s with two sharing the partitions: nothing lost or counted twice`, { timeout: dose(150_000, 600_000) }, async () => {
  // Every version any aggregator announced, per community: after a hand-over the next owner must go on above it.
  const nc = await connectNats(stack.natsUrl, "test-aggregator-crash");
  const versions = new Map<string, number[]>();
  nc.subscribe(changeFeedSubject("*"), {
    callback: (_, msg) => {
      const { communityId, version } = msg.json<Aggregate>();
      versions.set(communityId, [...(versions.get(communityId) ?? []), version]);
    },
  });
  const aggregators = [await startAggregator(), await startAggregator()];
  try {
    const killAndRestart = async (kill: number): Promise<void> => {
      const slot = kill % 2;
      aggregators[slot]!.kill("SIGKILL");
      await aggregators[slot]!.exited;
      aggregators[slot] = await startAggregator();
    };
    const { result } = await underLoad(stack.natsUrl, SHAPE, async (load) => {
      for (let kill = 1; kill < KILLS; kill += 1) {
        await sleep(1_500);
        await killAndRestart(kill);
      }
      await sleep(1_500);
      // The last one hangs (SIGSTOP) as the load ends, so the last readings, which decide the
      // totals, reach it and are never processed; killed, it leaves them to redelivery.
      process.kill(aggregators[KILLS % 2]!.pid, "SIGSTOP");
      await sleep(500);
      const last = await load.stop();
      await killAndRestart(KILLS);
      return last;
    });
    expect(result.acked).toBe(result.sent);
    // What a killed aggregator had received but not acknowledged comes back after the consumers' ack wait (10 s).
    const served = await servedTruth(api.url, result.truth, 60_000);
    await nc.flush();
    const backwards = [...versions].filter(([, seen]) => seen.some((version, i) => i > 0 && version <= seen[i - 1]!));
    console.log(
      `killed an aggregator ${KILLS}× (kill -9, another one running; the last one hung with the last readings) under ${count(SHAPE.rate)} readings/s: ` +
        `${count(result.acked)} readings, 0 lost, totals exact in all ${served.size} communities, versions only went up`,
    );
    expect(served.size).toBe(SHAPE.communities);
    expect(backwards.map(([id]) => id)).toEqual([]);
  } finally {
    for (const aggregator of aggregators) aggregator.kill("SIGKILL");
    await Promise.all(aggregators.map((aggregator) => aggregator.exited));
    await nc.close();
  }
});

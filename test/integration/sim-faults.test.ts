import { jetstreamManager } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { aggregatorBacklog } from "../../src/nats/inspect.js";
import { connectNats } from "../../src/nats/connect.js";
import { DLQ_STREAM } from "../../src/wire/names.js";
import type { Aggregate } from "../../src/domain/aggregate.js";
import { parseFaults } from "../../src/sim/faults.js";
import { JetStreamPublisher } from "../../src/nats/jetstream-publisher.js";
import { planSimulation, reportOf } from "../../src/sim/setup.js";
import { Simulator } from "../../src/sim/simulator.js";
import { eventually, usePipeline } from "../helpers/stack.js";

describe.each(["meter", "community"] as const)("a scenario with faults against real servers (%s readings)", (level) => {
  // A stack of its own per level: the two runs publish to the same communities.
  const pipeline = usePipeline();

  it("ends with served totals equal to the simulator's ground truth", async () => {
    const simulation = planSimulation({
      scenario: "village",
      communities: 2,
      meters: 20,
      seed: 11,
      level,
      intervalMs: 1_000,
      startMs: Date.UTC(2026, 5, 21, 10, 0, 0),
      durationMs: 5 * 60_000,
      // Two community-level "meters" see few faults: stronger odds, so that every kind strikes.
      faults: parseFaults(level === "meter" ? "dropout=0.02,duplicate=0.02,reorder=0.02,skew=2s,malformed=0.005,offline=0.02" : "dropout=0.05,duplicate=0.05,reorder=0.05,skew=2s,malformed=0.05,offline=0.5"),
    });
    const nc = await connectNats(pipeline.stack.natsUrl, "test-faults");
    const simulator = new Simulator(new JetStreamPublisher(nc), simulation.source, { speed: Number.POSITIVE_INFINITY, staleAfterMs: 30_000 });
    await simulator.start();
    const report = reportOf(simulator, simulation);
    expect(report.errors).toBe(0);
    // Every kind of fault struck, so the test exercises each of them.
    for (const count of Object.values(report.faults!)) expect(count).toBeGreaterThan(0);
    // Silent meters leave the totals (a community-level reading is its community's only meter: never stale).
    if (level === "meter") expect(Object.values(report.communities).some((c) => c.stale > 0)).toBe(true);

    const jsm = await jetstreamManager(nc);
    await eventually(async () => {
      return (await aggregatorBacklog(jsm)) === 0 ? true : undefined;
    }, 60_000, "the aggregator to consume everything");

    for (const [communityId, expected] of Object.entries(report.communities)) {
      const served = (await (await fetch(`${pipeline.api.url}/communities/${communityId}`)).json()) as Aggregate;
      expect({ id: communityId, genW: served.genW, conW: served.conW, meters: served.meters, stale: served.stale }).toEqual({ id: communityId, ...expected });
    }
    expect((await jsm.streams.info(DLQ_STREAM)).state.messages).toBe(report.faults!.malformed);
    await nc.drain();
  });
});

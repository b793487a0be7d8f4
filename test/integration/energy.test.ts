import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, openBus } from "../../src/nats/bus.js";
import { aggregatorBacklog, kvKeys } from "../../src/nats/inspect.js";
import { connectNats } from "../../src/nats/connect.js";
import { ENERGY_BUCKET } from "../../src/wire/names.js";
import { decodeDay } from "../../src/energy/day-record.js";
import { WMS_PER_WH } from "../../src/energy/meter-energy.js";
import { NO_FAULTS } from "../../src/sim/faults.js";
import { JetStreamPublisher } from "../../src/nats/jetstream-publisher.js";
import { planSimulation, reportOf } from "../../src/sim/setup.js";
import { Simulator } from "../../src/sim/simulator.js";
import type { CommunityEnergy } from "../../src/sim/sources.js";
import { startAggregation } from "../../src/app/services.js";
import { eventually, startTestStack, type TestStack } from "../helpers/stack.js";

const HOUR = 3_600_000;
const START_MS = Date.UTC(2026, 5, 21, 12);
const INTERVAL_MS = 60_000;
// Readings a minute apart: the aggregator must hold a reading's power longer than that.
const STALE_AFTER_MS = 90_000;

let stack: TestStack;
let bus: Bus;

beforeAll(async () => {
  stack = await startTestStack();
  bus = await openBus(stack.natsUrl, "test-energy-bus");
});

afterAll(async () => {
  await bus?.close();
  await stack?.stop();
});

/** Simulates `hours` of two villages from `startMs` as fast as acknowledged; returns the simulator's own energy. */
async function simulate(startMs: number, hours: number): Promise<Record<string, CommunityEnergy>> {
  const nc = await connectNats(stack.natsUrl, "test-energy-sim");
  const simulation = planSimulation({ scenario: "village", communities: 2, meters: 0, seed: 11, level: "meter", intervalMs: INTERVAL_MS, startMs, durationMs: hours * HOUR, faults: NO_FAULTS });
  const simulator = new Simulator(new JetStreamPublisher(nc), simulation.source, { speed: Number.POSITIVE_INFINITY, staleAfterMs: STALE_AFTER_MS });
  await simulator.start();
  await nc.drain();
  const report = reportOf(simulator, simulation);
  expect(report.errors).toBe(0);
  return report.energy!;
}

const drained = (): Promise<true> => eventually(async () => ((await aggregatorBacklog(bus.jsm)) === 0 ? true : undefined), 30_000, "the aggregator to acknowledge everything");

/** Generation and consumption in Wh per day record of a community, from KV. */
async function storedDays(communityId: string): Promise<Map<string, { genWh: number; conWh: number }>> {
  const days = new Map<string, { genWh: number; conWh: number }>();
  for (const key of (await kvKeys(bus.jsm, ENERGY_BUCKET, `${communityId}.>`)).sort()) {
    const entry = await bus.energy.get(key);
    const day = entry?.operation === "PUT" ? decodeDay(entry.string()) : undefined;
    if (!day) continue;
    let [genWms, conWms] = [0, 0];
    for (const minute of day.minutes.values()) [genWms, conWms] = [genWms + minute.genWms, conWms + minute.conWms];
    days.set(key, { genWh: genWms / WMS_PER_WH, conWh: conWms / WMS_PER_WH });
  }
  return days;
}

describe("energy in the aggregator", () => {
  it("stores per-day energy matching the simulator's own within 1 %, across a restart and a UTC midnight", { timeout: 120_000 }, async () => {
    // A whole simulated day: 12:00–24:00 UTC with one aggregator, then 00:00–12:00 with a new one that continues.
    const first = await startAggregation(stack.natsUrl, stack.redisUrl, { staleAfterMs: STALE_AFTER_MS });
    let truth: Record<string, CommunityEnergy>;
    try {
      truth = await simulate(START_MS, 12);
      await drained();
    } finally {
      await first.stop();
    }
    const second = await startAggregation(stack.natsUrl, stack.redisUrl, { staleAfterMs: STALE_AFTER_MS });
    try {
      const later = await simulate(START_MS + 12 * HOUR, 12);
      for (const [id, energy] of Object.entries(later)) truth[id] = { ...truth[id]!, genKwh: truth[id]!.genKwh + energy.genKwh, conKwh: truth[id]!.conKwh + energy.conKwh };
      await drained();
    } finally {
      await second.stop();
    }

    expect(Object.keys(truth)).toEqual(["community1", "community2"]);
    for (const [communityId, expected] of Object.entries(truth)) {
      const days = await storedDays(communityId);
      expect([...days.keys()]).toEqual([`${communityId}.2026-06-21`, `${communityId}.2026-06-22`]);
      const genWh = [...days.values()].reduce((sum, day) => sum + day.genWh, 0);
      const conWh = [...days.values()].reduce((sum, day) => sum + day.conWh, 0);
      const [simGenWh, simConWh] = [expected.genKwh * 1000, expected.conKwh * 1000];
      console.log(
        `${communityId} 24 h: stored gen ${genWh.toFixed(1)} Wh con ${conWh.toFixed(1)} Wh · simulator gen ${simGenWh.toFixed(1)} Wh con ${simConWh.toFixed(1)} Wh · off by ${((genWh / simGenWh - 1) * 100).toFixed(3)} % / ${((conWh / simConWh - 1) * 100).toFixed(3)} %`,
      );
      expect(simGenWh).toBeGreaterThan(0);
      expect(Math.abs(genWh / simGenWh - 1)).toBeLessThan(0.01);
      expect(Math.abs(conWh / simConWh - 1)).toBeLessThan(0.01);
    }
  });
});

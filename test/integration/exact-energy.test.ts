/**
 * Exact for real meters (issue 17), on real servers: a simulated day of a mixed-cadence
 * community — 15-minute averaged gateway values beside 1-minute meters and 2–10 s devices, each
 * on its own phase with jitter, with duplicates and reordered readings — gives the same energy
 * per minute, per 15-minute bucket and per day as the simulator's ground truth, to the
 * watt-millisecond, and the same live totals to the watt; and so it does with the aggregator
 * killed (kill -9) again and again mid-run.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startAggregation } from "../../src/app/services.js";
import { aggregateFromJson } from "../../src/domain/aggregate.js";
import { SETTLEMENT_INTERVAL_MS, settle } from "../../src/energy/buckets.js";
import { decodeDay } from "../../src/energy/day-record.js";
import type { Energy } from "../../src/energy/meter-energy.js";
import { type Bus, openBus } from "../../src/nats/bus.js";
import { connectNats } from "../../src/nats/connect.js";
import { aggregatorBacklog } from "../../src/nats/inspect.js";
import { JetStreamPublisher } from "../../src/nats/jetstream-publisher.js";
import { parseFaults } from "../../src/sim/faults.js";
import { planSimulation } from "../../src/sim/setup.js";
import { GroundTruth } from "../../src/sim/ground-truth.js";
import { Simulator } from "../../src/sim/simulator.js";
import { decodeReading } from "../../src/wire/decode-reading.js";
import { energyDayKey, energyFinalKey, latestKey, partitionOf, partitionStream } from "../../src/wire/names.js";
import { CliProcess } from "../helpers/cli.js";
import { count } from "../helpers/faults.js";
import { eventually, startTestStack, type TestStack } from "../helpers/stack.js";

const HOUR = 3_600_000;
const DAY_START = Date.UTC(2026, 5, 21);
const STALE_AFTER_MS = 30_000;

/**
 * One community: 12 gateways sending 15-minute means, 8 meters every minute, and 6 devices every
 * 2, 5 and 10 s — ≈ 150,000 readings a day, so that `npm test` stays short.
 */
const SCENARIO = {
  name: "exact-mixed",
  location: { latitude: 47.99, longitude: 7.85 },
  groups: [
    { count: 8, kind: "household", annualKwh: [2000, 5000], intervalMs: 900_000, averaged: true },
    { count: 4, kind: "household", annualKwh: [3000, 6000], pvKwp: [5, 10], intervalMs: 900_000, averaged: true },
    { count: 6, kind: "household", annualKwh: [2500, 5000], intervalMs: 60_000 },
    { count: 2, kind: "household", annualKwh: [3500, 6000], pvKwp: [6, 10], battery: { capacityKwh: [5, 10], powerKw: [2.5, 5] }, intervalMs: 60_000 },
    { count: 2, kind: "household", annualKwh: 0, pvKwp: [4, 9], intervalMs: 2_000 },
    { count: 2, kind: "household", annualKwh: 0, ev: { chargeKw: [3.7, 11], dailyKwh: [6, 15] }, intervalMs: 5_000 },
    { count: 2, kind: "household", annualKwh: 0, heatPump: { electricKw: [1.5, 3], heatLossWPerK: [120, 220] }, intervalMs: 10_000 },
  ],
};

const COMMUNITY = "community1";

let stack: TestStack;
let bus: Bus;
let dir: string;
let scenarioFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ecwatch-exact-"));
  scenarioFile = join(dir, "exact-mixed.json");
  writeFileSync(scenarioFile, JSON.stringify(SCENARIO));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Each test on servers of its own: the same community, simulated afresh.
beforeEach(async () => {
  stack = await startTestStack();
  bus = await openBus(stack.natsUrl, "test-exact-energy");
});

afterEach(async () => {
  await bus?.close();
  await stack?.stop();
});

/**
 * The day 2026-06-21 of `communityId` and the hour after (so that the day is final: the
 * gateways' grace is 45 min), spread phases with ±10 % jitter, 2 % duplicates, 2 % of readings
 * one interval late; published at `speed`; resolves the simulator once every publish settled.
 */
async function simulateDay(seed: number, speed: number): Promise<Simulator> {
  const nc = await connectNats(stack.natsUrl, "test-exact-sim");
  try {
    const simulation = planSimulation({
      scenario: scenarioFile,
      communities: 1,
      meters: 0,
      seed,
      level: "meter",
      intervalMs: 60_000,
      startMs: DAY_START,
      durationMs: 25 * HOUR,
      faults: parseFaults("duplicate=0.02,reorder=0.02"),
      phase: "spread",
      jitter: 0.1,
    });
    const simulator = new Simulator(new JetStreamPublisher(nc), simulation.source, { speed, staleAfterMs: STALE_AFTER_MS });
    await simulator.start();
    expect(simulator.stats.errors).toBe(0);
    return simulator;
  } finally {
    await nc.drain();
  }
}

const drained = (): Promise<true> => eventually(async () => ((await aggregatorBacklog(bus.jsm)) === 0 ? true : undefined), 90_000, "the aggregator to acknowledge everything");

/** The stored minutes of a community's UTC day, from KV. */
async function storedMinutes(communityId: string, dayStartMs: number): Promise<ReadonlyMap<number, Energy>> {
  const entry = await bus.energy.get(energyDayKey(communityId, dayStartMs));
  return (entry?.operation === "PUT" && decodeDay(entry.string())?.minutes) || new Map();
}

const within = (minutes: ReadonlyMap<number, Energy>, fromMs: number, toMs: number) => new Map([...minutes].filter(([at]) => at >= fromMs && at < toMs));

/** The final data time the aggregator stored for a community. */
async function storedFinalMs(communityId: string): Promise<number | undefined> {
  const entry = await bus.energy.get(energyFinalKey(communityId));
  return entry?.operation === "PUT" ? (JSON.parse(entry.string()) as { finalMs: number }).finalMs : undefined;
}

/**
 * The simulator's ground truth (the same rule) counted from the readings in the order the stream
 * holds them — the aggregator's input. The simulator's own truth follows the order of its acks,
 * which a publish retried under load (a slow ack, sent again, stored once at its first place)
 * can change: a reading then counts late for the one and in its place for the other.
 */
async function truthOfStream(communityId: string): Promise<{ truth: GroundTruth; byMeter: GroundTruth }> {
  const truth = new GroundTruth(STALE_AFTER_MS);
  // Each meter as a community of its own: which meter's energy a difference is (see differences).
  const byMeter = new GroundTruth(STALE_AFTER_MS);
  const stream = partitionStream(partitionOf(communityId));
  const last = (await bus.jsm.streams.info(stream)).state.last_seq;
  const ordered = await bus.js.consumers.get(stream);
  const messages = await ordered.consume({ max_messages: 5_000 });
  for await (const msg of messages) {
    const decoded = decodeReading(msg.subject, msg.string(), msg.seq);
    if (decoded.ok) truth.record(decoded.communityId, decoded.meterId, decoded.state);
    if (decoded.ok) byMeter.record(decoded.meterId, decoded.meterId, decoded.state);
    if (msg.seq >= last) break;
  }
  await messages.close();
  return { truth, byMeter };
}

const FIELDS = ["genWms", "conWms", "importWms", "exportWms"] as const;
const minuteOf = (ms: number) => new Date(ms).toISOString().slice(11, 16);

/**
 * Where the stored minutes differ from the truth, for the failure message: each run of
 * consecutive differing minutes with what is missing (negative: too much) per column, and the
 * meters whose own energy over the run comes closest to the missing consumption or generation
 * (which meter lost or doubled an interval).
 */
function differences(stored: ReadonlyMap<number, Energy>, expected: ReadonlyMap<number, Energy>, byMeter: GroundTruth): string {
  const zero: Energy = { genWms: 0, conWms: 0, importWms: 0, exportWms: 0 };
  const differing = [...new Set([...stored.keys(), ...expected.keys()])]
    .sort((a, b) => a - b)
    .filter((at) => FIELDS.some((field) => (stored.get(at) ?? zero)[field] !== (expected.get(at) ?? zero)[field]));
  const runs: number[][] = [];
  for (const at of differing) {
    const run = runs.at(-1);
    if (run && at - run.at(-1)! === 60_000) run.push(at);
    else runs.push([at]);
  }
  const meters = Object.keys(byMeter.totals());
  const sum = (minutes: ReadonlyMap<number, Energy>, run: number[], field: (typeof FIELDS)[number]) => run.reduce((total, at) => total + (minutes.get(at)?.[field] ?? 0), 0);
  return runs
    .map((run) => {
      const missing = Object.fromEntries(FIELDS.map((field) => [field, sum(expected, run, field) - sum(stored, run, field)]));
      const field = Math.abs(missing.conWms!) >= Math.abs(missing.genWms!) ? "conWms" : "genWms";
      const closest = meters
        .map((meterId) => ({ meterId, energy: sum(byMeter.minutes(meterId), run, field) }))
        .sort((a, b) => Math.abs(Math.abs(missing[field]!) - a.energy) - Math.abs(Math.abs(missing[field]!) - b.energy))
        .slice(0, 3)
        .map(({ meterId, energy }) => `${meterId} ${energy}`);
      return `${minuteOf(run[0]!)}–${minuteOf(run.at(-1)! + 60_000)} (${run.length} min): missing ${JSON.stringify(missing)}; meters with the closest ${field} there: ${closest.join(", ")}`;
    })
    .join("\n");
}

/** Checks the stored energy and live totals of `communityId` against the ground truth of what the stream holds, and returns the line to print. */
async function expectExact(communityId: string, simulator: Simulator): Promise<string> {
  const { truth, byMeter } = await truthOfStream(communityId);
  // The simulator counted the same readings; only their order may differ (see truthOfStream).
  expect(truth.totals()).toEqual(simulator.totals());
  const finalMs = truth.finalThroughMs(communityId);
  expect(finalMs).toBeGreaterThanOrEqual(DAY_START + 24 * HOUR);
  // The aggregator stores its final data time last: once it equals the simulator's, everything before it is stored.
  await eventually(async () => ((await storedFinalMs(communityId)) === finalMs ? true : undefined), 60_000, "the aggregator's final data time to reach the simulator's");

  // Every minute of the day, to the watt-millisecond.
  const stored = await storedMinutes(communityId, DAY_START);
  const expected = within(truth.minutes(communityId), DAY_START, DAY_START + 24 * HOUR);
  expect(stored.size).toBeGreaterThan(1_400);
  expect(new Map([...stored].sort(([a], [b]) => a - b)), differences(stored, expected, byMeter)).toEqual(new Map([...expected].sort(([a], [b]) => a - b)));
  // Hence every quarter hour and the day.
  const quarters = settle(stored, SETTLEMENT_INTERVAL_MS);
  expect(quarters).toEqual(settle(expected, SETTLEMENT_INTERVAL_MS));
  expect(quarters).toHaveLength(96);
  const day = quarters.reduce((sum, q) => ({ gen: sum.gen + q.genWh, con: sum.con + q.conWh }), { gen: 0, con: 0 });

  // The live totals, to the watt.
  const latest = aggregateFromJson((await bus.latest.get(latestKey(communityId)))!.string())!;
  const { genW, conW, meters, stale } = truth.totals()[communityId]!;
  expect({ genW: latest.genW, conW: latest.conW, meters: latest.meters, stale: latest.stale }).toEqual({ genW, conW, meters, stale });

  const faults = simulator.stats.acked;
  return (
    `${communityId}: ${count(faults)} readings (12 × 15 min averaged, 8 × 1 min, 6 × 2–10 s; spread phases, ±10 % jitter, duplicates, reordered): ` +
    `96 quarter hours and ${stored.size} minutes of 2026-06-21 equal the simulator's to the W·ms (day: gen ${day.gen.toFixed(3)} Wh, con ${day.con.toFixed(3)} Wh), ` +
    `live totals equal to the watt (gen ${genW} W, con ${conW} W, ${meters} meters, ${stale} stale)`
  );
}

describe("energy and totals for real meters", () => {
  it("a day of a mixed-cadence community, out of step, with duplicates and reordering, equals the simulator's ground truth", { timeout: 180_000 }, async () => {
    const aggregation = await startAggregation(stack.natsUrl, stack.redisUrl, { staleAfterMs: STALE_AFTER_MS });
    try {
      const simulator = await simulateDay(21, Number.POSITIVE_INFINITY);
      await drained();
      console.log(await expectExact(COMMUNITY, simulator));
      expect(aggregation.aggregator.stats.late).toBe(0);
    } finally {
      await aggregation.stop();
    }
  });

  it("the same day with the aggregator killed (kill -9) 5 times mid-run: still exact", { timeout: 300_000 }, async () => {
    const start = async (): Promise<CliProcess> => {
      const aggregator = new CliProcess(["aggregate", "--nats", stack.natsUrl, "--redis", stack.redisUrl, "--stale-after", `${STALE_AFTER_MS}ms`]);
      await aggregator.waitForStderr(/aggregating /);
      return aggregator;
    };
    let aggregator = await start();
    let kills = 0;
    try {
      // 25 h of data in ≈ 20 s: kill it every 2 s while the day is published.
      const running = simulateDay(22, (25 * HOUR) / 20_000);
      let done = false;
      void running.finally(() => (done = true));
      while (!done || kills < 5) {
        await sleep(2_000);
        aggregator.kill("SIGKILL");
        await aggregator.exited;
        kills += 1;
        aggregator = await start();
      }
      const simulator = await running;
      await drained();
      const line = await expectExact(COMMUNITY, simulator);
      console.log(`${line}; the aggregator killed ${kills}× (kill -9) mid-run`);
      expect(kills).toBeGreaterThanOrEqual(5);
    } finally {
      aggregator.kill("SIGKILL");
      await aggregator.exited;
    }
  });
});

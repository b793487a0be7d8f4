/**
 * The archive's 15-minute energy against the aggregator's rule, on real servers (issue 22): a
 * mixed-cadence community (15-minute averaged gateways, 1-minute meters, 1–10 s devices, each on
 * its own phase with jitter) with duplicates, reordered and lost readings and meters going
 * silent, archived by the archiver, holds exactly one row per published valid reading, and every meter's energy per complete
 * quarter hour from `meter_energy_15m` equals the simulator's ground truth (the same rule, in
 * TypeScript) to the bit — at each cadence, and again once the day is compacted and its quarter
 * hours are read from the file computed at compaction.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startArchiving } from "../../src/app/archive.js";
import { SETTLEMENT_INTERVAL_MS } from "../../src/energy/buckets.js";
import { type Bus, openBus } from "../../src/nats/bus.js";
import { connectNats } from "../../src/nats/connect.js";
import { JetStreamPublisher } from "../../src/nats/jetstream-publisher.js";
import { parseFaults } from "../../src/sim/faults.js";
import { GroundTruth } from "../../src/sim/ground-truth.js";
import { planSimulation } from "../../src/sim/setup.js";
import { Simulator } from "../../src/sim/simulator.js";
import { decodeReading } from "../../src/wire/decode-reading.js";
import type { OutgoingMessage, ReadingSink, SinkDone } from "../../src/wire/reading-sink.js";
import { type QuarterEnergy, archivedQuarters, compactArchive, maxDifferenceWh, streamReadings, truthQuarters } from "../helpers/archive-energy.js";
import { archived, queryArchive } from "../helpers/archive-run.js";
import { count } from "../helpers/faults.js";
import { startTestStack, type TestStack } from "../helpers/stack.js";

const HOUR = 3_600_000;
const START = Date.UTC(2026, 5, 21, 10);
const HOURS = 4;
const STALE_AFTER_MS = 30_000;
const COMMUNITY = "community1";

/** 6 gateways sending 15-minute means, 6 meters every minute, 6 devices every 1, 2, 5 and 10 s: ≈ 50,000 readings in 4 h. */
const SCENARIO = {
  name: "archive-energy-mixed",
  location: { latitude: 47.99, longitude: 7.85 },
  groups: [
    { count: 4, kind: "household", annualKwh: [2000, 5000], intervalMs: 900_000, averaged: true },
    { count: 2, kind: "household", annualKwh: [3000, 6000], pvKwp: [5, 10], intervalMs: 900_000, averaged: true },
    { count: 4, kind: "household", annualKwh: [2500, 5000], intervalMs: 60_000 },
    { count: 2, kind: "household", annualKwh: [3500, 6000], pvKwp: [6, 10], battery: { capacityKwh: [5, 10], powerKw: [2.5, 5] }, intervalMs: 60_000 },
    { count: 2, kind: "household", annualKwh: 0, pvKwp: [4, 9], intervalMs: 1_000 },
    { count: 1, kind: "household", annualKwh: 0, pvKwp: [4, 9], intervalMs: 2_000 },
    { count: 1, kind: "household", annualKwh: 0, ev: { chargeKw: [3.7, 11], dailyKwh: [6, 15] }, intervalMs: 5_000 },
    { count: 2, kind: "household", annualKwh: 0, heatPump: { electricKw: [1.5, 3], heatLossWPerK: [120, 220] }, intervalMs: 10_000 },
  ],
};

let stack: TestStack;
let bus: Bus;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ecwatch-archive-energy-"));
  stack = await startTestStack();
  bus = await openBus(stack.natsUrl, "test-archive-energy");
});

afterAll(async () => {
  await bus?.close();
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A sink that remembers every valid reading it published, once per (meter, measured_at, seq): what the archive must hold. */
class RecordingSink implements ReadingSink {
  readonly published = new Set<string>();
  messages = 0;
  constructor(private readonly inner: ReadingSink) {}
  publish<M extends OutgoingMessage>(message: M, done: SinkDone<M>): void {
    this.inner.publish(message, (sent, err) => {
      const decoded = err ? undefined : decodeReading(sent.subject, sent.payload, 0);
      if (decoded?.ok) {
        this.messages += 1;
        this.published.add(`${decoded.meterId} ${decoded.state.measuredAtMs} ${decoded.state.seq}`);
      }
      done(sent, err);
    });
  }
}

/** The ground truth of the readings in the order the partition stream holds them: the aggregator's input (see exact-energy.test.ts). */
async function truthOfStream(): Promise<GroundTruth> {
  const truth = new GroundTruth(STALE_AFTER_MS);
  for (const { communityId, meterId, state } of await streamReadings(bus, COMMUNITY)) truth.record(communityId, meterId, state);
  return truth;
}


/** The quarter hours of the meters of one cadence. */
const ofMeters = (quarters: QuarterEnergy, meters: ReadonlySet<string>): QuarterEnergy => new Map([...quarters].filter(([key]) => meters.has(key.split(" ")[0]!)));

describe("the archive's 15-minute energy", () => {
  it("equals the simulator's per-meter ground truth for every complete quarter hour of a mixed-cadence community with duplicates and reordering", { timeout: 240_000 }, async () => {
    const service = await startArchiving(stack.natsUrl, dir, { flushMs: 300, onError: (err) => console.error("a flush failed", err) });
    const nc = await connectNats(stack.natsUrl, "test-archive-energy-sim");
    const scenarioFile = join(dir, "scenario.json");
    writeFileSync(scenarioFile, JSON.stringify(SCENARIO));
    let sink: RecordingSink;
    let simulator: Simulator;
    try {
      const simulation = planSimulation({
        scenario: scenarioFile,
        communities: 1,
        meters: 0,
        seed: 22,
        level: "meter",
        intervalMs: 60_000,
        startMs: START,
        durationMs: HOURS * HOUR,
        faults: parseFaults("duplicate=0.02,reorder=0.02,dropout=0.01,offline=0.002"),
        phase: "spread",
        jitter: 0.1,
      });
      sink = new RecordingSink(new JetStreamPublisher(nc));
      simulator = new Simulator(sink, simulation.source, { speed: Number.POSITIVE_INFINITY, staleAfterMs: STALE_AFTER_MS });
      await simulator.start();
      expect(simulator.stats.errors).toBe(0);
      await archived(bus, 60_000);
    } finally {
      await nc.drain();
      await service.stop();
    }

    // Exactly one row per published valid reading: the duplicates (each a stream message of its own) are one row.
    const [counted] = await queryArchive(dir, "SELECT count(*) AS rows, count(DISTINCT (meter_id, measured_at, seq)) AS distinct FROM readings");
    const rows = Number(counted!.rows);
    const distinct = Number(counted!.distinct);
    expect(rows).toBe(sink.published.size);
    expect(distinct).toBe(sink.published.size);
    expect(sink.messages).toBeGreaterThan(sink.published.size);

    const truth = await truthOfStream();
    expect(truth.totals()).toEqual(simulator.totals());
    expect(truth.energy()[COMMUNITY]!.late).toBe(0);
    // Complete quarter hours: those the rule has made final (every meter's readings up to them are in).
    const finalMs = truth.finalThroughMs(COMMUNITY);
    const toMs = Math.floor(finalMs / SETTLEMENT_INTERVAL_MS) * SETTLEMENT_INTERVAL_MS;
    expect(toMs).toBeGreaterThanOrEqual(START + (HOURS - 1) * HOUR);
    const expected = truthQuarters(truth, COMMUNITY, 0, toMs);
    const actual = await archivedQuarters(dir, COMMUNITY, 0, toMs);
    expect(actual).toEqual(expected);

    // Per cadence (by readings per hour), the same comparison, to print.
    const perMeter = (await queryArchive(dir, `SELECT meter_id, count(*) / ${HOURS} AS per_hour FROM readings GROUP BY meter_id`)) as Array<{ meter_id: string; per_hour: number }>;
    const cadences = [
      { name: "15 min", meters: new Set(perMeter.filter((m) => m.per_hour <= 6).map((m) => m.meter_id)) },
      { name: "1 min", meters: new Set(perMeter.filter((m) => m.per_hour > 6 && m.per_hour <= 120).map((m) => m.meter_id)) },
      { name: "2–10 s", meters: new Set(perMeter.filter((m) => m.per_hour > 120 && m.per_hour < 2_400).map((m) => m.meter_id)) },
      { name: "1 s", meters: new Set(perMeter.filter((m) => m.per_hour >= 2_400).map((m) => m.meter_id)) },
    ];
    const lines = cadences.map(({ name, meters }) => {
      const quarters = ofMeters(actual, meters);
      expect(quarters.size, name).toBeGreaterThan(0);
      return `${name}: ${meters.size} meters, ${quarters.size} quarter hours, max |diff| ${maxDifferenceWh(quarters, ofMeters(expected, meters))} Wh`;
    });
    // Compacted as the archiver does once the day is over: the day's quarter hours are then read from the file computed at compaction, and are the same.
    const compacted = await compactArchive(dir, Date.UTC(2026, 5, 22, 2));
    expect(compacted.energy).toBe(1);
    const precomputed = await archivedQuarters(dir, COMMUNITY, 0, toMs);
    expect(precomputed).toEqual(expected);
    expect(maxDifferenceWh(precomputed, expected)).toBe(0);
    console.log(
      `${count(rows)} rows = published valid readings (${count(sink.messages)} messages with duplicates), ${perMeter.length} meters, ` +
        `${actual.size} meter quarter hours up to ${new Date(toMs).toISOString()} equal the ground truth (max |diff| ${maxDifferenceWh(actual, expected)} Wh), also once compacted with the day's quarter hours computed then (${compacted.compactions} day compacted); ${lines.join("; ")}`,
    );
  });
});

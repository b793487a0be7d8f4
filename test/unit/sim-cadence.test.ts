import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeReading } from "../../src/wire/decode-reading.js";
import { WMS_PER_WH } from "../../src/energy/meter-energy.js";
import { averagingStepMs, cadenceKey, jitterMs, maxJitterMs, parseJitter, phaseOffsetMs } from "../../src/sim/cadence.js";
import { CommunityModel } from "../../src/sim/community-model.js";
import { type Decision, FaultInjector, type MeterEmission, NO_FAULTS, parseFaults } from "../../src/sim/faults.js";
import { loadProfiles } from "../../src/sim/fixtures.js";
import type { CommunitySpec, MeterSpec } from "../../src/sim/scenario.js";
import { ReadingSchedule, type ScheduledUnit } from "../../src/sim/schedule.js";
import { type SimulationPlan, planSimulation } from "../../src/sim/setup.js";
import { Simulator } from "../../src/sim/simulator.js";
import { type Emission, type Tick } from "../../src/sim/sources.js";
import { ModelSource, type ModelSourceOptions } from "../../src/sim/model-source.js";
import type { ReadingSink } from "../../src/wire/reading-sink.js";
import type { MeterReading } from "../../src/domain/reading.js";

const profiles = loadProfiles();
const T0 = Date.UTC(2026, 5, 21, 6);
const MINUTE = 60_000;
const QUARTER = 15 * MINUTE;

/** A meter reading as published (the wire contract). */
type Payload = MeterReading;
const payloadOf = (e: Emission): Payload => JSON.parse(e.payload) as Payload;

function drain(source: { next(): Tick | undefined }, limit = 10_000_000): Tick[] {
  const ticks: Tick[] = [];
  for (let tick = source.next(); tick; tick = source.next()) {
    ticks.push(tick);
    if (ticks.length > limit) throw new Error("source did not end");
  }
  return ticks;
}

/** The events of a schedule: [unit, atMs, cycle]. */
function events(schedule: ReadingSchedule): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  while (schedule.next()) out.push([schedule.unit, schedule.atMs, schedule.cycle]);
  return out;
}

/** Units of several intervals, each at its seeded offset (as `--phase spread` places them). */
function spreadUnits(seed: number, intervals: readonly number[], jitter = 0): ScheduledUnit[] {
  return intervals.map((periodMs, index) => {
    const key = cadenceKey(seed, `community1/meter${index}`);
    return { periodMs, firstMs: phaseOffsetMs(key, periodMs), jitterMs: maxJitterMs(jitter, periodMs), key };
  });
}

const INTERVALS = [1_000, 1_000, 2_000, 5_000, 10_000, 1_000, MINUTE, MINUTE, 2_000, QUARTER];

describe("ReadingSchedule: spread phases", () => {
  const endMs = T0 + 2 * QUARTER;
  const all = events(new ReadingSchedule(spreadUnits(1, INTERVALS), T0, endMs));

  it("has every meter report exactly once in each of its intervals", () => {
    INTERVALS.forEach((intervalMs, unit) => {
      const times = all.filter(([u]) => u === unit).map(([, at]) => at);
      expect(times).toHaveLength((endMs - T0) / intervalMs);
      times.forEach((at, k) => {
        expect(at).toBeGreaterThanOrEqual(T0 + k * intervalMs);
        expect(at).toBeLessThan(T0 + (k + 1) * intervalMs);
        // The same offset in every interval.
        expect(at - (T0 + k * intervalMs)).toBe(times[0]! - T0);
      });
    });
  });

  it("hands out the events in data-time order, each meter's cycles counted from 0", () => {
    for (let i = 1; i < all.length; i += 1) expect(all[i]![1]).toBeGreaterThanOrEqual(all[i - 1]![1]);
    INTERVALS.forEach((_, unit) => expect(all.filter(([u]) => u === unit).map(([, , cycle]) => cycle)).toEqual([...Array(all.filter(([u]) => u === unit).length).keys()]));
  });

  it("spreads the meters of one interval over it instead of one instant", () => {
    const offsets = new Set(all.filter(([u]) => INTERVALS[u] === 1_000).map(([, at]) => (at - T0) % 1_000));
    expect(offsets.size).toBe(3);
  });

  it("keeps a meter's offset for the same seed and meter, whatever else is simulated, and moves it for another seed", () => {
    const key = (seed: number): number => cadenceKey(seed, "community1/meter007");
    expect(phaseOffsetMs(key(1), QUARTER)).toBe(phaseOffsetMs(key(1), QUARTER));
    const plan: SimulationPlan = { communities: 1, meters: 5, seed: 4, level: "meter", intervalMs: 10_000, phase: "spread", startMs: T0, durationMs: 10_000, faults: NO_FAULTS };
    const firstOf = (patch: Partial<SimulationPlan>): Record<string, number> =>
      Object.fromEntries(drain(planSimulation({ ...plan, ...patch }).source).flatMap((t) => t.emissions.filter((e) => e.subject.startsWith("ec.community1.")).map((e) => [e.subject, t.atMs - T0])));
    const alone = firstOf({});
    expect(firstOf({ communities: 3 })).toEqual(alone);
    expect(Object.values(alone).every((offset) => offset >= 0 && offset < 10_000)).toBe(true);
    expect(firstOf({ seed: 5 })).not.toEqual(alone);
  });

  it("spreads a community's meters of one interval evenly over it, one in each of n equal parts, each at its own place", () => {
    const plan: SimulationPlan = { communities: 2, meters: 20, seed: 4, level: "meter", intervalMs: 10_000, phase: "spread", startMs: T0, durationMs: 10_000, faults: NO_FAULTS };
    const ticks = drain(planSimulation(plan).source);
    for (const communityId of ["community1", "community2"]) {
      const offsets = ticks.flatMap((t) => t.emissions.filter((e) => e.subject.startsWith(`ec.${communityId}.`)).map(() => t.atMs - T0)).sort((a, b) => a - b);
      expect(offsets).toHaveLength(20);
      const gaps = offsets.map((offset, i) => (i === 0 ? offset + 10_000 - offsets.at(-1)! : offset - offsets[i - 1]!));
      // Neighbours in their own parts of 500 ms: less than two parts apart; not a grid either.
      expect(Math.max(...gaps)).toBeLessThan(1_000);
      expect(new Set(gaps).size).toBeGreaterThan(10);
    }
  });

  it("ends before endMs and runs on without one", () => {
    expect(all.every(([, at]) => at < endMs)).toBe(true);
    const endless = new ReadingSchedule(spreadUnits(1, [1_000, 2_000]), T0);
    for (let i = 0; i < 3_000; i += 1) expect(endless.next()).toBe(true);
  });
});

describe("ReadingSchedule: jitter", () => {
  const JITTER = 0.2;
  const endMs = T0 + 2 * QUARTER;
  const units = spreadUnits(3, INTERVALS, JITTER);
  const all = events(new ReadingSchedule(units, T0, endMs));
  const slot = (unit: number, cycle: number): number => T0 + units[unit]!.firstMs + cycle * units[unit]!.periodMs;

  it("moves each reading by at most ± the fraction of its interval, seeded", () => {
    let moved = 0;
    for (const [unit, at, cycle] of all) {
      const offset = at - slot(unit, cycle);
      // (The first reading is not moved before the start.)
      expect(Math.abs(offset)).toBeLessThanOrEqual(JITTER * INTERVALS[unit]!);
      if (offset !== 0) moved += 1;
    }
    expect(moved).toBeGreaterThan(all.length / 2);
    expect(events(new ReadingSchedule(spreadUnits(3, INTERVALS, JITTER), T0, endMs))).toEqual(all);
  });

  it("still hands out the events in data-time order, each meter's in its own order, once per interval", () => {
    for (let i = 1; i < all.length; i += 1) expect(all[i]![1]).toBeGreaterThanOrEqual(all[i - 1]![1]);
    INTERVALS.forEach((intervalMs, unit) => {
      const mine = all.filter(([u]) => u === unit);
      expect(mine.map(([, , cycle]) => cycle)).toEqual([...mine.keys()]);
      for (let i = 1; i < mine.length; i += 1) expect(mine[i]![1]).toBeGreaterThan(mine[i - 1]![1]);
      expect(mine.length).toBeGreaterThanOrEqual((endMs - T0) / intervalMs - 1);
    });
    expect(all.every(([, at]) => at >= T0 && at < endMs)).toBe(true);
  });

  it("stays below half an interval, so two readings of a meter cannot swap", () => {
    expect(maxJitterMs(0.49, 1_000)).toBe(490);
    expect(maxJitterMs(0.49, 3)).toBe(1);
    for (let cycle = 0; cycle < 1_000; cycle += 1) expect(Math.abs(jitterMs(12345, cycle, 490))).toBeLessThanOrEqual(490);
  });

  it("parses --jitter as a fraction from 0 to below 0.5", () => {
    expect(parseJitter("0.1")).toBe(0.1);
    expect(parseJitter("0")).toBe(0);
    for (const bad of ["0.5", "1", "-0.1", "abc", "", "0.1x"]) expect(() => parseJitter(bad)).toThrow(/fraction of the interval/);
  });
});

// ---------------------------------------------------------------------------------------

/**
 * Digests of the readings (and the models' energy) of three plans, taken from the simulator
 * before issue 17 (commit cfbbf7a): `--phase aligned` must give exactly those bytes.
 */
const BEFORE_ISSUE_17: ReadonlyArray<[string, SimulationPlan, number, string]> = [
  [
    "village, 1 s, every fault",
    { scenario: "village", communities: 2, meters: 20, seed: 7, level: "meter", intervalMs: 1_000, startMs: Date.UTC(2026, 5, 21, 4), durationMs: 600_000, faults: parseFaults("dropout=0.02,duplicate=0.02,reorder=0.02,skew=1s,malformed=0.01,offline=0.01") },
    46_599,
    "12add71ad119fe4c6338c2f32e50f75d7cc4a1e9bd996c48bc7839c1e473e74c",
  ],
  ["default scenario, 1 min, a day", { communities: 3, meters: 10, seed: 3, level: "meter", intervalMs: MINUTE, startMs: Date.UTC(2026, 5, 21, 4), durationMs: 86_400_000, faults: NO_FAULTS }, 43_200, "c1109566fab830ad0925d47b6d26b313cee7bf713535bd4ae225adac900b90ba"],
  ["business park, community level, 15 min", { scenario: "business-park", communities: 1, meters: 20, seed: 5, level: "community", intervalMs: QUARTER, startMs: Date.UTC(2026, 5, 21, 4), durationMs: 86_400_000, faults: NO_FAULTS }, 96, "2f5a13011f8577a008c721c33fa29ae4ecdc50a68b459c8791d45e7f59d8cc59"],
];

describe("--phase aligned", () => {
  it.each(BEFORE_ISSUE_17)("gives the readings of before issue 17 byte for byte: %s", (_, plan, readings, digest) => {
    const simulation = planSimulation({ ...plan, phase: "aligned" });
    const hash = createHash("sha256");
    let count = 0;
    for (let tick = simulation.source.next(); tick; tick = simulation.source.next()) {
      for (const e of tick.emissions) {
        count += 1;
        hash.update(`${tick.atMs} ${tick.continues ? 1 : 0} ${e.subject} ${e.dedupId} ${e.payload} ${JSON.stringify(e.counted)}\n`);
      }
    }
    hash.update(JSON.stringify(simulation.models!.energyByCommunity()));
    expect(count).toBe(readings);
    expect(hash.digest("hex")).toBe(digest);
  });

  it("is what a plan without a phase gives (ecwatch bench's load shape)", () => {
    const plan = BEFORE_ISSUE_17[1]![1];
    const payloads = (p: SimulationPlan): string[] => drain(planSimulation({ ...p, durationMs: 3_600_000 }).source).flatMap((t) => t.emissions.map((e) => e.payload));
    expect(payloads({ ...plan, phase: "aligned" })).toEqual(payloads(plan));
    expect(payloads({ ...plan, phase: "spread" })).not.toEqual(payloads(plan));
  });
});

// ---------------------------------------------------------------------------------------

const meterSpec = (meterId: string, patch: Partial<MeterSpec> = {}): MeterSpec => ({ meterId, kind: "household", annualKwh: 4_000, pvKwp: 8, ...patch });

function community(meters: readonly MeterSpec[], communityId = "community1"): CommunitySpec {
  return { communityId, timeZone: "Europe/Berlin", latitudeDeg: 48.14, longitudeDeg: 11.58, meters };
}

function modelSource(communities: readonly CommunitySpec[], patch: Partial<ModelSourceOptions> = {}): ModelSource {
  return new ModelSource({ communities, profiles, seed: 9, level: "meter", intervalMs: 1_000, startMs: T0, endMs: T0 + 6 * 3_600_000, faults: new FaultInjector(NO_FAULTS, 9), ...patch });
}

describe("averaged readings", () => {
  const gateway = community([meterSpec("meter001", { intervalMs: QUARTER, averaged: true, battery: { capacityKwh: 8, powerKw: 4 } })]);

  it("send the mean power over the interval ending at measuredAt: sent W × interval is the models' energy to the watt-interval", () => {
    const readings = drain(modelSource([gateway], { intervalMs: MINUTE, phase: "aligned" })).flatMap((t) => t.emissions.map(payloadOf));
    // The same meter's model stepped independently at its 1-minute model step.
    const model = new CommunityModel(gateway, profiles, 9, 60, { startMs: T0, stepMs: MINUTE });
    const minutes: Array<{ genW: number; conW: number }> = [];
    for (let at = T0; at < T0 + 6 * 3_600_000; at += MINUTE) minutes.push(model.meterPowerAt(0, at, MINUTE));
    expect(readings.map((r) => r.measuredAt)).toEqual(Array.from({ length: 23 }, (_, k) => new Date(T0 + (k + 1) * QUARTER).toISOString()));
    let producing = 0;
    readings.forEach((reading, k) => {
      const quarter = minutes.slice(15 * k, 15 * k + 15);
      const genWms = quarter.reduce((sum, p) => sum + p.genW * MINUTE, 0);
      const conWms = quarter.reduce((sum, p) => sum + p.conW * MINUTE, 0);
      expect(Math.abs(reading.genW * QUARTER - genWms)).toBeLessThanOrEqual(0.5 * QUARTER);
      expect(Math.abs(reading.conW * QUARTER - conWms)).toBeLessThanOrEqual(0.5 * QUARTER);
      if (reading.genW > 1_000) producing += 1;
    });
    expect(producing).toBeGreaterThan(10);
  });

  it("carry intervalMs and averaged: true, as the aggregator decodes and the ground truth counts them", () => {
    const ticks = drain(modelSource([gateway], { phase: "spread", endMs: T0 + 2 * 3_600_000 }));
    const emissions = ticks.flatMap((t) => t.emissions);
    expect(emissions.length).toBeGreaterThanOrEqual(7);
    for (const e of emissions) {
      const p = payloadOf(e);
      expect(p).toMatchObject({ intervalMs: QUARTER, averaged: true });
      const decoded = decodeReading(e.subject, e.payload, 1);
      if (!decoded.ok) throw new Error(decoded.reason);
      expect(e.counted).toEqual({ communityId: decoded.communityId, meterId: decoded.meterId, state: decoded.state });
      expect(decoded.state).toMatchObject({ intervalMs: QUARTER, averaged: true });
    }
  });

  it("give the ground truth the energy sent: the sum of what was sent × the interval, as far as final", async () => {
    const source = modelSource([gateway], { phase: "spread" });
    const sent: Payload[] = [];
    const sink: ReadingSink = {
      publish: (message, done) => {
        sent.push(JSON.parse(message.payload) as Payload);
        done(message);
      },
    };
    const simulator = new Simulator(sink, source, { speed: Number.POSITIVE_INFINITY, staleAfterMs: 30_000 });
    await simulator.start();
    const finalMs = simulator.truth.finalThroughMs("community1");
    const final = sent.filter((r) => Date.parse(r.measuredAt) <= finalMs);
    expect(final.length).toBeGreaterThan(15);
    const minutes = [...simulator.truth.minutes("community1").values()];
    expect(minutes.reduce((sum, e) => sum + e.genWms, 0)).toBe(final.reduce((sum, r) => sum + r.genW * QUARTER, 0));
    expect(minutes.reduce((sum, e) => sum + e.conWms, 0)).toBe(final.reduce((sum, r) => sum + r.conW * QUARTER, 0));
    expect(simulator.truth.energy().community1!.conWh).toBe(Math.round(final.reduce((sum, r) => sum + r.conW * QUARTER, 0) / WMS_PER_WH));
  });

  it("sample a 15-minute interval at 1-minute steps, a 1-minute one at once", () => {
    expect(averagingStepMs(QUARTER)).toBe(MINUTE);
    expect(averagingStepMs(MINUTE)).toBe(MINUTE);
    expect(averagingStepMs(5_000)).toBe(5_000);
    expect(averagingStepMs(61_000)).toBe(1_000);
    expect(averagingStepMs(3_600_000)).toBe(MINUTE);
  });
});

describe("per-group intervals", () => {
  const mixed = community([
    meterSpec("meter001", { intervalMs: 2_000 }),
    meterSpec("meter002", { intervalMs: MINUTE }),
    meterSpec("meter003", { intervalMs: QUARTER, averaged: true }),
    meterSpec("meter004"),
  ]);

  it("has each meter report at its group's interval, or at --interval without one, and send the interval its group declares", () => {
    const emissions = drain(modelSource([mixed], { intervalMs: 10_000, phase: "spread", endMs: T0 + 3_600_000 })).flatMap((t) => t.emissions.map(payloadOf));
    const of = (meterId: string): Payload[] => emissions.filter((p) => p.meterId === meterId);
    const gaps = (meterId: string): Set<number> => new Set(of(meterId).slice(1).map((p, i) => p.seq - of(meterId)[i]!.seq));
    expect(gaps("meter001")).toEqual(new Set([2_000]));
    expect(gaps("meter002")).toEqual(new Set([MINUTE]));
    expect(gaps("meter003")).toEqual(new Set([QUARTER]));
    expect(gaps("meter004")).toEqual(new Set([10_000]));
    expect(of("meter001")).toHaveLength(1_800);
    expect(of("meter001").every((p) => p.intervalMs === 2_000 && p.averaged === undefined)).toBe(true);
    expect(of("meter004").every((p) => !("intervalMs" in p) && !("averaged" in p))).toBe(true);
    for (const p of emissions) expect(Date.parse(p.measuredAt)).toBe(p.seq);
  });

  it("ticks carry the readings due at one data time, split between communities past maxTickEmissions", () => {
    const ticks = drain(modelSource([mixed, community(mixed.meters, "community2")], { intervalMs: 10_000, phase: "aligned", endMs: T0 + MINUTE, maxTickEmissions: 2 }));
    for (const tick of ticks) for (const e of tick.emissions) expect(e.counted!.state.measuredAtMs).toBe(tick.atMs);
    // At T0 both communities' meter001, meter002 and meter004 report: one part per community.
    expect(ticks.filter((t) => t.atMs === T0).map((t) => [t.emissions.length, t.continues ?? false])).toEqual([
      [3, true],
      [3, false],
    ]);
    expect(new Set(ticks.map((t) => t.atMs)).size).toBe(ticks.filter((t) => !t.continues).length);
  });

  it("gives the fault injector each meter's own interval", () => {
    const steps = new Map<string, Set<number>>();
    const faults = {
      active: true,
      decide(reading: MeterEmission, stepMs: number): Decision[] {
        steps.set(reading.meterId, (steps.get(reading.meterId) ?? new Set()).add(stepMs));
        return [{ kind: "send", measuredAtMs: reading.measuredAtMs }];
      },
    } as unknown as FaultInjector;
    drain(modelSource([mixed], { intervalMs: 10_000, phase: "spread", endMs: T0 + 3_600_000, faults }));
    expect(Object.fromEntries(steps)).toEqual({ meter001: new Set([2_000]), meter002: new Set([MINUTE]), meter003: new Set([QUARTER]), meter004: new Set([10_000]) });
  });

  it("holds a reordered reading until its own meter's next one", () => {
    const ticks = drain(modelSource([mixed], { intervalMs: 10_000, phase: "spread", endMs: T0 + 3_600_000, faults: new FaultInjector({ ...NO_FAULTS, reorder: 1 }, 9) }));
    const sentAt = ticks.flatMap((t) => t.emissions.map(payloadOf).filter((p) => p.meterId === "meter003").map((p) => [p.seq, t.atMs] as const));
    expect(sentAt.length).toBeGreaterThanOrEqual(3);
    // Each quarter-hour value goes out with the next one, 15 minutes later (not 10 s, the global interval); the last at the end.
    for (const [seq, atMs] of sentAt.slice(0, -1)) expect(atMs - seq).toBe(QUARTER);
    expect(sentAt.map(([seq]) => seq)).toEqual([...sentAt.map(([seq]) => seq)].sort((a, b) => a - b));
  });
});

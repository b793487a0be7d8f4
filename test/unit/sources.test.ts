import { describe, expect, it } from "vitest";
import { decodeReading } from "../../src/wire/decode-reading.js";
import { FaultInjector, type FaultSpec, NO_FAULTS } from "../../src/sim/faults.js";
import { loadProfiles } from "../../src/sim/fixtures.js";
import type { CommunitySpec } from "../../src/sim/scenario.js";
import { type Emission, type Tick } from "../../src/sim/sources.js";
import { ModelSource, type ModelSourceOptions } from "../../src/sim/model-source.js";
import { TraceSource } from "../../src/sim/trace-source.js";
import type { TraceEntry } from "../../src/sim/trace.js";
import type { MeterReading } from "../../src/domain/reading.js";

const profiles = loadProfiles();
/** Midday in June: the PV meters produce. */
const T0 = Date.UTC(2026, 5, 21, 11, 0, 0);

const COMMUNITIES: readonly CommunitySpec[] = [
  {
    communityId: "community1",
    timeZone: "Europe/Berlin",
    latitudeDeg: 48.14,
    longitudeDeg: 11.58,
    meters: [
      { meterId: "meter001", kind: "household", annualKwh: 3_000, pvKwp: 0 },
      { meterId: "meter002", kind: "household", annualKwh: 4_000, pvKwp: 8 },
      { meterId: "meter003", kind: "household", annualKwh: 5_000, pvKwp: 6, battery: { capacityKwh: 8, powerKw: 4 } },
    ],
  },
  {
    communityId: "community2",
    timeZone: "Europe/Berlin",
    latitudeDeg: 52.5,
    longitudeDeg: 13.4,
    meters: [
      { meterId: "meter001", kind: "business", annualKwh: 40_000, pvKwp: 30 },
      { meterId: "meter002", kind: "household", annualKwh: 2_500, pvKwp: 0 },
    ],
  },
];
const METERS = 5;

function source(patch: Partial<ModelSourceOptions> & { faultSpec?: FaultSpec } = {}): ModelSource {
  const { faultSpec, ...rest } = patch;
  const seed = rest.seed ?? 11;
  return new ModelSource({
    communities: COMMUNITIES,
    profiles,
    seed,
    level: "meter",
    intervalMs: 1_000,
    startMs: T0,
    endMs: T0 + 3_000,
    faults: new FaultInjector(faultSpec ?? NO_FAULTS, seed),
    ...rest,
  });
}

function drain(s: { next(): Tick | undefined }, limit = 100_000): Tick[] {
  const ticks: Tick[] = [];
  for (let tick = s.next(); tick; tick = s.next()) {
    ticks.push(tick);
    if (ticks.length > limit) throw new Error("source did not end");
  }
  return ticks;
}

/** A meter reading as published (the wire contract). */
type Payload = MeterReading;
const payloadOf = (e: Emission): Payload => JSON.parse(e.payload) as Payload;

describe("ModelSource: time", () => {
  it("ticks at startMs + k · interval until endMs, then ends for good", () => {
    const s = source({ intervalMs: 900_000, endMs: T0 + 3_600_000 });
    const ticks = drain(s);
    expect(ticks.map((t) => t.atMs)).toEqual([T0, T0 + 900_000, T0 + 1_800_000, T0 + 2_700_000]);
    expect(s.next()).toBeUndefined();
  });

  it("stops before a tick at exactly endMs", () => {
    expect(drain(source({ endMs: T0 + 1_000 })).map((t) => t.atMs)).toEqual([T0]);
  });

  it("runs on without an end", () => {
    const s = source({ endMs: undefined });
    let last: Tick | undefined;
    for (let i = 0; i < 500; i += 1) last = s.next();
    expect(last?.atMs).toBe(T0 + 499_000);
  });
});

describe("ModelSource: a large moment in parts", () => {
  const serialise = (ticks: readonly Tick[]): string[] => ticks.flatMap((t) => t.emissions.map((e) => `${t.atMs} ${e.subject} ${e.dedupId} ${e.payload}`));
  const faultSpec: FaultSpec = { dropout: 0.05, duplicate: 0.05, reorder: 0.05, skewMs: 1_500, malformed: 0.05, offline: 0.05 };

  it("splits a moment between communities once it holds maxTickEmissions readings, marking all parts but the last", () => {
    const ticks = drain(source({ maxTickEmissions: 2 }));
    // community1 (3 meters) is a part of its own; community2 (2 meters) ends the moment.
    expect(ticks.map((t) => [t.atMs, t.emissions.length, t.continues ?? false])).toEqual([
      [T0, 3, true],
      [T0, 2, false],
      [T0 + 1_000, 3, true],
      [T0 + 1_000, 2, false],
      [T0 + 2_000, 3, true],
      [T0 + 2_000, 2, false],
    ]);
  });

  it("sends the same readings in the same order as whole moments, faults included", () => {
    const whole = drain(source({ endMs: T0 + 60_000, faultSpec, maxTickEmissions: 1_000 }));
    expect(whole.every((t) => !t.continues)).toBe(true);
    expect(serialise(drain(source({ endMs: T0 + 60_000, faultSpec, maxTickEmissions: 1 })))).toEqual(serialise(whole));
  });
});

describe("ModelSource: meter-level readings", () => {
  it("emits one reading per meter per tick on ec.<c>.meter.<m>", () => {
    const ticks = drain(source());
    expect(ticks).toHaveLength(3);
    for (const tick of ticks) {
      expect(tick.emissions.map((e) => e.subject)).toEqual([
        "ec.community1.meter.meter001",
        "ec.community1.meter.meter002",
        "ec.community1.meter.meter003",
        "ec.community2.meter.meter001",
        "ec.community2.meter.meter002",
      ]);
    }
  });

  it("carries seq = data time in ms, measuredAt of that time, and the dedup id <c>.<m>.<seq>", () => {
    for (const tick of drain(source())) {
      for (const e of tick.emissions) {
        const p = payloadOf(e);
        expect(Object.keys(p).sort()).toEqual(["communityId", "conW", "genW", "measuredAt", "meterId", "seq"]);
        expect(p.seq).toBe(tick.atMs);
        expect(p.measuredAt).toBe(new Date(tick.atMs).toISOString());
        expect(e.subject).toBe(`ec.${p.communityId}.meter.${p.meterId}`);
        expect(e.dedupId).toBe(`${p.communityId}.${p.meterId}.${tick.atMs}`);
      }
    }
  });

  it("counts each reading the way the aggregator decodes it", () => {
    for (const tick of drain(source())) {
      for (const e of tick.emissions) {
        const decoded = decodeReading(e.subject, e.payload, 1);
        if (!decoded.ok) throw new Error(decoded.reason);
        expect(e.counted).toEqual({ communityId: decoded.communityId, meterId: decoded.meterId, state: decoded.state });
      }
    }
  });

  it("has PV meters produce at noon in June and the others not", () => {
    const [tick] = drain(source());
    const gen = Object.fromEntries(tick!.emissions.map((e) => [e.subject, payloadOf(e).genW]));
    expect(gen["ec.community1.meter.meter001"]).toBe(0);
    expect(gen["ec.community1.meter.meter002"]).toBeGreaterThan(2_000);
    expect(gen["ec.community2.meter.meter001"]).toBeGreaterThan(10_000);
    expect(gen["ec.community2.meter.meter002"]).toBe(0);
  });
});

describe("ModelSource: community-level readings", () => {
  it("publishes ec.<c>.net with the summed watts of the community's meters", () => {
    const meters = drain(source());
    const communities = drain(source({ level: "community" }));
    expect(communities.map((t) => t.atMs)).toEqual(meters.map((t) => t.atMs));
    communities.forEach((tick, k) => {
      expect(tick.emissions.map((e) => e.subject)).toEqual(["ec.community1.net", "ec.community2.net"]);
      for (const e of tick.emissions) {
        const p = JSON.parse(e.payload) as Record<string, unknown>;
        expect(Object.keys(p).sort()).toEqual(["communityId", "conW", "genW", "measuredAt"]);
        const own = meters[k]!.emissions.map(payloadOf).filter((m) => m.communityId === p.communityId);
        expect(own.length).toBeGreaterThan(1);
        expect(p.genW).toBe(own.reduce((s, m) => s + m.genW, 0));
        expect(p.conW).toBe(own.reduce((s, m) => s + m.conW, 0));
        expect(p.measuredAt).toBe(new Date(tick.atMs).toISOString());
        expect(e.dedupId).toBe(`${p.communityId}._community.${tick.atMs}`);
        expect(e.counted).toMatchObject({ communityId: p.communityId, meterId: "_community", state: { genW: p.genW, conW: p.conW, measuredAtMs: tick.atMs } });
      }
    });
  });
});

describe("ModelSource: faults", () => {
  it("with reorder=1 sends each reading after the meter's next tick, and the last held ones at the end", () => {
    const ticks = drain(source({ faultSpec: { ...NO_FAULTS, reorder: 1 } }));
    expect(ticks.map((t) => t.atMs)).toEqual([T0, T0 + 1_000, T0 + 2_000, T0 + 2_000]);
    expect(ticks[0]!.emissions).toEqual([]);
    expect(ticks[1]!.emissions.map((e) => payloadOf(e).seq)).toEqual(Array(METERS).fill(T0));
    expect(ticks[2]!.emissions.map((e) => payloadOf(e).seq)).toEqual(Array(METERS).fill(T0 + 1_000));
    expect(ticks[3]!.emissions.map((e) => payloadOf(e).seq)).toEqual(Array(METERS).fill(T0 + 2_000));
  });

  it("with some readings reordered, a meter's readings go out of order and none is lost", () => {
    const ticks = drain(source({ endMs: T0 + 60_000, faultSpec: { ...NO_FAULTS, reorder: 0.3 } }));
    const bySubject = new Map<string, number[]>();
    for (const e of ticks.flatMap((t) => t.emissions)) bySubject.set(e.subject, [...(bySubject.get(e.subject) ?? []), payloadOf(e).seq]);
    let inversions = 0;
    for (const seqs of bySubject.values()) {
      expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => T0 + i * 1_000));
      for (let i = 1; i < seqs.length; i += 1) if (seqs[i]! < seqs[i - 1]!) inversions += 1;
    }
    expect(inversions).toBeGreaterThan(10);
  });

  it("with duplicate=1 sends a copy whose dedup id ends in .dup", () => {
    const [tick] = drain(source({ faultSpec: { ...NO_FAULTS, duplicate: 1 } }));
    expect(tick!.emissions).toHaveLength(2 * METERS);
    for (let i = 0; i < METERS; i += 1) {
      const [original, copy] = [tick!.emissions[2 * i]!, tick!.emissions[2 * i + 1]!];
      expect(copy.payload).toBe(original.payload);
      expect(copy.subject).toBe(original.subject);
      expect(copy.dedupId).toBe(`${original.dedupId}.dup`);
      expect(copy.counted).toEqual(original.counted);
    }
  });

  it("with malformed=1 emits messages that are not counted, with a .bad dedup id, each rejected by the decoder", () => {
    const emissions = drain(source({ faultSpec: { ...NO_FAULTS, malformed: 1 } })).flatMap((t) => t.emissions);
    expect(emissions).toHaveLength(3 * METERS);
    for (const e of emissions) {
      expect(e.counted).toBeUndefined();
      expect(e.dedupId).toMatch(/^community\d\.meter\d{3}\.\d+\.bad$/);
      expect(decodeReading(e.subject, e.payload, 1).ok).toBe(false);
    }
  });

  it("with dropout=1 emits nothing, but the run still ticks", () => {
    const ticks = drain(source({ faultSpec: { ...NO_FAULTS, dropout: 1 } }));
    expect(ticks).toHaveLength(3);
    expect(ticks.every((t) => t.emissions.length === 0)).toBe(true);
  });

  it("with skew, measuredAt is off by a fixed amount per meter while seq stays the data time", () => {
    const ticks = drain(source({ endMs: T0 + 5_000, faultSpec: { ...NO_FAULTS, skewMs: 2_000 } }));
    const offsets = new Map<string, Set<number>>();
    for (const tick of ticks) {
      for (const e of tick.emissions) {
        const p = payloadOf(e);
        expect(p.seq).toBe(tick.atMs);
        expect(e.counted!.state.measuredAtMs).toBe(Date.parse(p.measuredAt));
        offsets.set(e.subject, (offsets.get(e.subject) ?? new Set()).add(Date.parse(p.measuredAt) - tick.atMs));
      }
    }
    const perMeter = [...offsets.values()].map((s) => [...s]);
    expect(perMeter.every((o) => o.length === 1 && Math.abs(o[0]!) <= 2_000)).toBe(true);
    expect(perMeter.some((o) => o[0] !== 0)).toBe(true);
  });
});

describe("ModelSource: determinism", () => {
  const faultSpec: FaultSpec = { dropout: 0.05, duplicate: 0.05, reorder: 0.05, skewMs: 1_500, malformed: 0.05, offline: 0.05 };
  const serialise = (s: ModelSource): string =>
    drain(s)
      .flatMap((t) => t.emissions.map((e) => `${t.atMs} ${e.subject} ${e.dedupId} ${e.payload}`))
      .join("\n");

  it("gives byte-identical payloads for the same seed and start", () => {
    const a = serialise(source({ endMs: T0 + 120_000, faultSpec }));
    const b = serialise(source({ endMs: T0 + 120_000, faultSpec }));
    expect(a.length).toBeGreaterThan(10_000);
    expect(b).toBe(a);
  });

  it("gives other payloads for another seed", () => {
    expect(serialise(source({ endMs: T0 + 20_000, seed: 12, faultSpec }))).not.toBe(serialise(source({ endMs: T0 + 20_000, seed: 11, faultSpec })));
  });
});

describe("ModelSource: energy", () => {
  it("integrates power × interval per community, from the power before faults", () => {
    const intervalMs = 60_000;
    const plain = source({ intervalMs, endMs: T0 + 3_600_000 });
    const ticks = drain(plain);
    const expected = { community1: { gen: 0, con: 0 }, community2: { gen: 0, con: 0 } } as Record<string, { gen: number; con: number }>;
    let peakSurplus = 0;
    let peakSurplusAt: string | undefined;
    for (const tick of ticks) {
      let net1 = 0;
      for (const e of tick.emissions) {
        const p = payloadOf(e);
        expected[p.communityId]!.gen += (p.genW * intervalMs) / 3_600_000 / 1_000;
        expected[p.communityId]!.con += (p.conW * intervalMs) / 3_600_000 / 1_000;
        if (p.communityId === "community1") net1 += p.genW - p.conW;
      }
      if (net1 > peakSurplus) [peakSurplus, peakSurplusAt] = [net1, new Date(tick.atMs).toISOString()];
    }
    const energy = plain.energyByCommunity();
    expect(Object.keys(energy).sort()).toEqual(["community1", "community2"]);
    expect(energy.community1!.genKwh).toBeCloseTo(expected.community1!.gen, 9);
    expect(energy.community1!.conKwh).toBeCloseTo(expected.community1!.con, 9);
    expect(energy.community2!.genKwh).toBeCloseTo(expected.community2!.gen, 9);
    expect(energy.community2!.conKwh).toBeCloseTo(expected.community2!.con, 9);
    // 8 kWp + 6 kWp for an hour at noon in June: several kWh.
    expect(energy.community1!.genKwh).toBeGreaterThan(5);
    expect(energy.community1!.peakSurplusW).toBe(peakSurplus);
    expect(energy.community1!.peakSurplusAt).toBe(peakSurplusAt);

    // Dropping every reading does not change the physical energy.
    const dropped = source({ intervalMs, endMs: T0 + 3_600_000, faultSpec: { ...NO_FAULTS, dropout: 1 } });
    drain(dropped);
    expect(dropped.energyByCommunity()).toEqual(energy);
  });

  it("starts at zero with no peaks", () => {
    expect(source().energyByCommunity().community1).toEqual({
      genKwh: 0,
      conKwh: 0,
      peakSurplusW: 0,
      peakSurplusAt: undefined,
      peakDeficitW: 0,
      peakDeficitAt: undefined,
    });
  });
});

describe("TraceSource", () => {
  const reading = (meterId: string, atMs: number, genW = 100, conW = 50): TraceEntry => ({
    subject: `ec.community1.meter.${meterId}`,
    msgId: `community1.${meterId}.${atMs}`,
    data: { meterId, communityId: "community1", genW, conW, measuredAt: new Date(atMs).toISOString(), seq: atMs },
  });
  const net = (atMs: number): TraceEntry => ({
    subject: "ec.community1.net",
    msgId: `community1._community.${atMs}`,
    data: { communityId: "community1", genW: 900, conW: 400, measuredAt: new Date(atMs).toISOString() },
  });
  const broken: TraceEntry = { subject: "ec.community1.meter.meter002", msgId: `community1.meter002.${T0}.bad`, data: '{"meterId":"meter002","genW":' };
  const ENTRIES: readonly TraceEntry[] = [reading("meter001", T0), reading("meter002", T0), broken, net(T0), reading("meter001", T0 + 1_000), reading("meter002", T0 + 1_000, 7, 8)];

  it("groups entries by data time, a malformed line riding with the tick before it", () => {
    const s = new TraceSource(ENTRIES);
    const ticks = drain(s);
    expect(ticks.map((t) => t.atMs)).toEqual([T0, T0 + 1_000]);
    expect(ticks[0]!.emissions.map((e) => e.subject)).toEqual([
      "ec.community1.meter.meter001",
      "ec.community1.meter.meter002",
      "ec.community1.meter.meter002",
      "ec.community1.net",
    ]);
    expect(ticks[1]!.emissions).toHaveLength(2);
    expect(s.next()).toBeUndefined();
  });

  it("publishes the recorded payload: JSON for a reading, the raw text for a malformed line, with the recorded msgId", () => {
    const [first] = drain(new TraceSource(ENTRIES));
    expect(JSON.parse(first!.emissions[0]!.payload)).toEqual(ENTRIES[0]!.data);
    expect(first!.emissions[2]!.payload).toBe('{"meterId":"meter002","genW":');
    expect(first!.emissions.map((e) => e.dedupId)).toEqual(ENTRIES.slice(0, 4).map((e) => e.msgId));
  });

  it("counts what the aggregator's decoder accepts, and not the malformed line", () => {
    const [first, second] = drain(new TraceSource(ENTRIES));
    expect(first!.emissions.map((e) => e.counted?.meterId)).toEqual(["meter001", "meter002", undefined, "_community"]);
    expect(first!.emissions[0]!.counted).toEqual({ communityId: "community1", meterId: "meter001", state: { genW: 100, conW: 50, measuredAtMs: T0, seq: T0 } });
    // A community-level reading is ordered by its position in the trace, as by the stream sequence.
    expect(first!.emissions[3]!.counted!.state).toEqual({ genW: 900, conW: 400, measuredAtMs: T0, seq: 4 });
    expect(second!.emissions[1]!.counted!.state).toEqual({ genW: 7, conW: 8, measuredAtMs: T0 + 1_000, seq: T0 + 1_000 });
  });

  it("does not count a well-formed JSON message the aggregator would reject", () => {
    const wrongId: TraceEntry = { subject: "ec.community1.meter.meter001", data: { meterId: "meterX", communityId: "community1", genW: 1, conW: 1, measuredAt: new Date(T0).toISOString(), seq: T0 } };
    const [tick] = drain(new TraceSource([wrongId]));
    expect(tick!.atMs).toBe(T0);
    expect(tick!.emissions[0]!.counted).toBeUndefined();
  });

  it("shifts data time, seq and msgId to rebase a replay", () => {
    const shift = 7 * 86_400_000;
    const ticks = drain(new TraceSource(ENTRIES, shift));
    expect(ticks.map((t) => t.atMs)).toEqual([T0 + shift, T0 + 1_000 + shift]);
    const first = ticks[0]!.emissions[0]!;
    expect(JSON.parse(first.payload)).toMatchObject({ measuredAt: new Date(T0 + shift).toISOString(), seq: T0 + shift });
    expect(first.dedupId).toBe(`community1.meter001.${T0 + shift}`);
    expect(first.counted!.state).toMatchObject({ measuredAtMs: T0 + shift, seq: T0 + shift });
  });

  it("finds the first data time, skipping malformed lines", () => {
    expect(TraceSource.firstTimeMs([broken, reading("meter001", T0 + 5_000)])).toBe(T0 + 5_000);
    expect(TraceSource.firstTimeMs([broken])).toBeUndefined();
    expect(TraceSource.firstTimeMs([])).toBeUndefined();
  });

  it("gives nothing for an empty trace", () => {
    expect(new TraceSource([]).next()).toBeUndefined();
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MeterIntegrator, type RuleReading } from "../../src/energy/meter-integrator.js";
import { type PowerReading, WMS_PER_WH, powerOver } from "../../src/energy/meter-energy.js";
import { GRACE_INTERVALS, holdMs, learnedCadenceMs, toleranceMs } from "../../src/energy/validity.js";
import { integrateReadings } from "../helpers/energy.js";

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const FLOOR = 30 * SECOND; // --stale-after's default
const T0 = Date.UTC(2026, 5, 21, 6);
const QUARTER = 15 * MINUTE;

/** Energy emitted by an integrator, per 15-minute bucket start and in all, in W·ms of generation. */
class Collected {
  readonly buckets = new Map<number, number>();
  total = 0;
  readonly emit = (fromMs: number, toMs: number, power: PowerReading): void => {
    // Split at quarter hours: a bucket gets exactly its part.
    for (let from = fromMs; from < toMs; ) {
      const bucket = Math.floor(from / QUARTER) * QUARTER;
      const to = Math.min(toMs, bucket + QUARTER);
      const wms = powerOver(power, to - from).genWms;
      this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + wms);
      this.total += wms;
      from = to;
    }
  };
}

/** Offers readings in the given order, the community's data time following the newest seen, as the aggregator does. */
function integrate(readings: readonly RuleReading[], floorMs = FLOOR, finalWatermarkMs?: number) {
  const meter = new MeterIntegrator(floorMs);
  const collected = new Collected();
  const offered: string[] = [];
  let watermark = Number.NEGATIVE_INFINITY;
  for (const reading of readings) {
    offered.push(meter.offer(reading));
    watermark = Math.max(watermark, reading.measuredAtMs);
    meter.advance(watermark, collected.emit);
  }
  if (finalWatermarkMs !== undefined) meter.advance(finalWatermarkMs, collected.emit);
  return { meter, collected, offered };
}

/** A deterministic ±jitter in [-fraction, fraction] × cadence, from the index. */
const jitterOf = (index: number, cadenceMs: number, fraction: number): number => Math.round((((index * 7_919) % 1_000) / 1_000 - 0.5) * 2 * fraction * cadenceMs);

/** Readings of a meter with constant power every `cadenceMs` from `phaseMs` past T0, for `count` readings. */
function regular(cadenceMs: number, count: number, { phaseMs = 0, jitter = 0, genW = 1_000 }: { phaseMs?: number; jitter?: number; genW?: number } = {}): RuleReading[] {
  return Array.from({ length: count }, (_, i) => {
    const measuredAtMs = T0 + phaseMs + i * cadenceMs + (i > 0 && i < count - 1 ? jitterOf(i, cadenceMs, jitter) : 0);
    return { genW, conW: 0, measuredAtMs, seq: measuredAtMs };
  });
}

const wh = (wms: number): number => Math.round(wms / WMS_PER_WH);

describe("the rule of validity", () => {
  it("learns a cadence as the median of the last gaps", () => {
    expect(learnedCadenceMs([])).toBeUndefined();
    expect(learnedCadenceMs([60_000])).toBe(60_000);
    expect(learnedCadenceMs([60_000, 60_000, 120_000, 60_000, 60_000])).toBe(60_000); // one missed reading does not move it
    expect(learnedCadenceMs([900_000, 900_000, 900_000, 60_000, 60_000])).toBe(900_000);
  });

  it("holds a reading for its cadence plus half a cadence, at least --stale-after", () => {
    expect(holdMs(SECOND, FLOOR)).toBe(SECOND + FLOOR);
    expect(holdMs(MINUTE, FLOOR)).toBe(MINUTE + FLOOR);
    expect(holdMs(QUARTER, FLOOR)).toBe(QUARTER + QUARTER / 2);
    expect(toleranceMs(undefined, FLOOR)).toBe(QUARTER / 2); // unknown: taken as 15 min
  });
});

describe("a meter's energy by the rule, against today's fixed 30 s hold", () => {
  const figures: string[] = [];

  for (const [name, cadenceMs] of [
    ["1 s", SECOND],
    ["1 min", MINUTE],
    ["5 min", 5 * MINUTE],
    ["15 min", QUARTER],
  ] as const) {
    it(`is exact at a ${name} cadence, out of step and with ±20 % jitter`, () => {
      const count = Math.round((2 * 60 * MINUTE) / cadenceMs) + 1;
      const readings = regular(cadenceMs, count, { phaseMs: Math.round(cadenceMs * 0.37), jitter: 0.2 });
      const first = readings[0]!.measuredAtMs;
      const last = readings.at(-1)!.measuredAtMs;
      // The community's data time a grace past the last reading: every reading is final, the last one's hold not yet over.
      const { collected } = integrate(readings, FLOOR, last + Math.ceil(GRACE_INTERVALS * 1.2 * cadenceMs));
      // Every gap is within the hold: all of it counts, 1 kW from the first reading to the last.
      const exact = 1_000 * (last - first);
      expect(collected.total).toBe(exact);
      const today = [...integrateReadings(readings, FLOOR).values()].reduce((sum, e) => sum + e.genWms, 0);
      figures.push(`${name.padEnd(6)}: rule ${wh(collected.total)} Wh, exact ${wh(exact)} Wh, today's 30 s hold ${wh(today)} Wh (${((100 * today) / exact).toFixed(1)} %)`);
      if (cadenceMs > FLOOR) expect(today).toBeLessThan(exact * 0.6); // where today's rule is wrong
      else expect(today).toBe(exact);
    });
  }

  it("prints the figures", () => {
    console.log(`2 h of a 1 kW meter:\n  ${figures.join("\n  ")}`);
    expect(figures).toHaveLength(4);
  });
});

describe("averaged readings", () => {
  it("put each 15-minute mean into the quarter hour before its measuredAt", () => {
    const means = [400, 1_200, 800, 0, 2_000, 1_600];
    const readings: RuleReading[] = means.map((genW, i) => ({ genW, conW: 0, measuredAtMs: T0 + (i + 1) * QUARTER, seq: i + 1, intervalMs: QUARTER, averaged: true }));
    const { collected } = integrate(readings, FLOOR, T0 + 20 * QUARTER);
    means.forEach((genW, i) => expect(collected.buckets.get(T0 + i * QUARTER) ?? 0).toBe(genW * QUARTER));
    expect(collected.total).toBe(means.reduce((a, b) => a + b, 0) * QUARTER); // no hold after the last: a mean covers its own interval
    // Today's rule puts a reading's power after it, for 30 s: another bucket, and 3 % of it.
    const today = integrateReadings(readings, FLOOR);
    expect([...today.values()].reduce((sum, e) => sum + e.genWms, 0)).not.toBe(collected.total);
  });

  it("leave a missing quarter hour out", () => {
    const readings: RuleReading[] = [1, 2, 4, 5].map((i) => ({ genW: 1_000, conW: 0, measuredAtMs: T0 + i * QUARTER, seq: i, intervalMs: QUARTER, averaged: true }));
    const { collected } = integrate(readings, FLOOR, T0 + 20 * QUARTER);
    expect(collected.buckets.get(T0 + 2 * QUARTER) ?? 0).toBe(0);
    expect(collected.total).toBe(4 * 1_000 * QUARTER);
  });
});

describe("a cadence change", () => {
  it("is followed within three readings: a meter reconfigured from 1 min to 15 min keeps counting", () => {
    const fast = regular(MINUTE, 31);
    const slowStart = fast.at(-1)!.measuredAtMs;
    const slow = Array.from({ length: 8 }, (_, i) => ({ genW: 1_000, conW: 0, measuredAtMs: slowStart + (i + 1) * QUARTER, seq: slowStart + (i + 1) * QUARTER }));
    const last = slow.at(-1)!.measuredAtMs;
    const { collected, meter } = integrate([...fast, ...slow], FLOOR, last + GRACE_INTERVALS * QUARTER);
    // The first 15-minute gaps exceed a 1-minute hold (1.5 min): three quarter hours count only 1.5 min each; from the fourth on,
    // three of the last five gaps are 15 min and so is the cadence.
    const missing = 3 * (QUARTER - (MINUTE + FLOOR));
    expect(collected.total).toBe(1_000 * (last - T0 - missing));
    expect(meter.cadenceMs()).toBe(QUARTER);
  });
});

describe("a meter that really stops", () => {
  it("counts its last reading's hold, then nothing until it is back", () => {
    const readings = regular(MINUTE, 10);
    const last = readings.at(-1)!.measuredAtMs;
    const { collected, meter } = integrate(readings, FLOOR, last + 6 * 60 * MINUTE);
    expect(meter.holdMs).toBe(MINUTE + FLOOR);
    expect(collected.total).toBe(1_000 * (last - T0 + MINUTE + FLOOR));
    // Its next reading, hours later, starts again without filling the gap.
    const back = { genW: 1_000, conW: 0, measuredAtMs: last + 6 * 60 * MINUTE, seq: 1 };
    expect(meter.offer(back)).toBe("pending");
    meter.advance(back.measuredAtMs + 10 * MINUTE, collected.emit);
    // …and, as it stops again, the hold of its one reading back (its cadence still 1 min: one long gap of five does not move the median).
    expect(collected.total).toBe(1_000 * (last - T0 + MINUTE + FLOOR + MINUTE + FLOOR));
  });
});

describe("readings out of order", () => {
  it("within the grace are integrated in their place: the same energy as in order", () => {
    const readings = regular(5 * MINUTE, 30, { jitter: 0.1, genW: 0 }).map((r, i) => ({ ...r, genW: 100 * ((i * 37) % 17) }));
    const inOrder = integrate(readings, FLOOR, T0 + 10 * 60 * MINUTE).collected;
    // Every third reading held back behind the next two (2 intervals late; the grace is 3).
    const shuffled = [...readings];
    for (let i = 0; i + 2 < shuffled.length; i += 3) [shuffled[i], shuffled[i + 1], shuffled[i + 2]] = [shuffled[i + 1]!, shuffled[i + 2]!, shuffled[i]!];
    const { collected, offered } = integrate(shuffled, FLOOR, T0 + 10 * 60 * MINUTE);
    expect(offered.filter((o) => o === "late")).toEqual([]);
    expect(collected.total).toBe(inOrder.total);
    expect([...collected.buckets]).toEqual([...inOrder.buckets]);
    // Today's rule drops a reordered reading's interval and holds the one before instead.
    const today = (list: RuleReading[]) => [...integrateReadings(list, 10 * MINUTE).values()].reduce((sum, e) => sum + e.genWms, 0);
    expect(today(shuffled)).not.toBe(today(readings));
  });

  it("beyond the grace are late: counted as such, the energy left as it was", () => {
    const readings = regular(MINUTE, 20);
    const lateOne = readings[5]!;
    const without = readings.filter((r) => r !== lateOne);
    const { meter, collected } = integrate(without);
    const before = collected.total;
    expect(meter.offer({ ...lateOne, genW: 50_000 })).toBe("late");
    meter.advance(readings.at(-1)!.measuredAtMs, collected.emit);
    expect(collected.total).toBe(before);
    expect(GRACE_INTERVALS).toBeGreaterThanOrEqual(3);
  });

  it("give the same energy in any order within the grace (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ gapS: fc.integer({ min: 1, max: 900 }), genW: fc.integer({ min: 0, max: 5_000 }) }), { minLength: 2, maxLength: 40 }),
        fc.nat(),
        (steps, swap) => {
          let at = T0;
          const readings = steps.map(({ gapS, genW }, i) => ((at += gapS * SECOND), { genW, conW: 0, measuredAtMs: at, seq: i }));
          // Two neighbours swapped: one reading one place late, within any grace.
          const shuffled = [...readings];
          const i = swap % (shuffled.length - 1);
          [shuffled[i], shuffled[i + 1]] = [shuffled[i + 1]!, shuffled[i]!];
          const end = at + 24 * 60 * MINUTE;
          const a = integrate(readings, FLOOR, end);
          const b = integrate(shuffled, FLOOR, end);
          return !b.offered.includes("late") && b.collected.total === a.collected.total && JSON.stringify([...b.collected.buckets]) === JSON.stringify([...a.collected.buckets]);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe("a restored integrator", () => {
  it("goes on exactly where the stored one stood", () => {
    const readings = regular(MINUTE, 40, { jitter: 0.2 });
    const whole = integrate(readings, FLOOR, T0 + 5 * 60 * MINUTE).collected.total;
    const first = integrate(readings.slice(0, 25));
    const restored = MeterIntegrator.restore(JSON.parse(JSON.stringify(first.meter.state())), FLOOR);
    let watermark = readings[24]!.measuredAtMs;
    for (const reading of readings.slice(25)) {
      restored.offer(reading);
      watermark = reading.measuredAtMs;
      restored.advance(watermark, first.collected.emit);
    }
    restored.advance(T0 + 5 * 60 * MINUTE, first.collected.emit);
    expect(first.collected.total).toBe(whole);
  });
});

import { describe, expect, it } from "vitest";
import { loadProfiles } from "../../src/sim/fixtures.js";
import { profilePowerW } from "../../src/sim/load-profile.js";
import { type MeterPower, MeterModel, type Surroundings } from "../../src/sim/meter-model.js";
import { seededRandom } from "../../src/sim/random.js";
import type { MeterSpec } from "../../src/sim/scenario.js";
import { sunElevationDeg } from "../../src/sim/solar.js";

const profiles = loadProfiles();
const MUNICH = { lat: 48.14, lon: 11.58 };
const HOUSEHOLD: MeterSpec = { meterId: "meter001", kind: "household", annualKwh: 3_000, pvKwp: 0 };

function surroundings(ms: number, seconds: number, patch: Partial<Surroundings> = {}): Surroundings {
  const date = new Date(ms);
  return { date, localDate: date, seconds, sunElevationDeg: sunElevationDeg(date, MUNICH.lat, MUNICH.lon), clearness: 1, outdoorC: 10, ...patch };
}

/** Steps a model from `fromMs` to `toMs` (exclusive) every `seconds`. */
function steps(model: MeterModel, fromMs: number, toMs: number, seconds: number, patch: Partial<Surroundings> = {}): MeterPower[] {
  const out: MeterPower[] = [];
  for (let t = fromMs; t < toMs; t += seconds * 1_000) out.push(model.step(surroundings(t, seconds, patch)));
  return out;
}

const JUNE_21 = Date.UTC(2026, 5, 21);

describe("MeterModel: a household's energy", () => {
  it("uses its annual kWh over a year at 900 s steps, within 5 %", () => {
    const model = new MeterModel(HOUSEHOLD, profiles, seededRandom(1));
    const powers = steps(model, Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1), 900);
    expect(powers).toHaveLength(365 * 96);
    const kwh = powers.reduce((sum, p) => sum + p.conW, 0) * 0.25 / 1_000;
    expect(kwh).toBeGreaterThan(3_000 * 0.95);
    expect(kwh).toBeLessThan(3_000 * 1.05);
    // No PV: nothing generated all year.
    expect(powers.every((p) => p.genW === 0)).toBe(true);
  });

  it("scales with the annual kWh: twice the consumption gives about twice the energy", () => {
    const energy = (annualKwh: number): number => {
      const model = new MeterModel({ ...HOUSEHOLD, annualKwh }, profiles, seededRandom(2));
      return steps(model, Date.UTC(2026, 0, 1), Date.UTC(2026, 3, 1), 900).reduce((sum, p) => sum + p.conW, 0);
    };
    const ratio = energy(6_000) / energy(3_000);
    expect(ratio).toBeGreaterThan(1.85);
    expect(ratio).toBeLessThan(2.15);
  });

  it("reports whole, non-negative watts", () => {
    const model = new MeterModel({ ...HOUSEHOLD, pvKwp: 7, battery: { capacityKwh: 5, powerKw: 3 } }, profiles, seededRandom(3));
    const powers = steps(model, JUNE_21, JUNE_21 + 86_400_000, 37);
    const bad = powers.filter((p) => !Number.isInteger(p.genW) || !Number.isInteger(p.conW) || p.genW < 0 || p.conW < 0);
    expect(bad).toEqual([]);
    expect(powers[0]!.meterId).toBe("meter001");
  });
});

describe("MeterModel: PV", () => {
  const PV_ONLY: MeterSpec = { meterId: "pv", kind: "household", annualKwh: 0, pvKwp: 10 };

  it("generates exactly 0 at night and at most its kWp by day", () => {
    const model = new MeterModel(PV_ONLY, profiles, seededRandom(4));
    let night = 0;
    let max = 0;
    for (let t = JUNE_21; t < JUNE_21 + 86_400_000; t += 60_000) {
      const at = surroundings(t, 60);
      const { genW, conW } = model.step(at);
      expect(conW).toBe(0);
      if (at.sunElevationDeg <= 0) {
        expect(genW).toBe(0);
        night += 1;
      }
      max = Math.max(max, genW);
    }
    expect(night).toBeGreaterThan(7 * 60);
    expect(max).toBeLessThanOrEqual(10_000);
    expect(max).toBeGreaterThan(5_000);
  });

  it("peaks in the hour around solar noon (≈ 11:15 UTC in Munich in June)", () => {
    const model = new MeterModel(PV_ONLY, profiles, seededRandom(5));
    const powers = steps(model, JUNE_21, JUNE_21 + 86_400_000, 60);
    // Hourly means of windows centred on hh:15.
    const hourly = Array.from({ length: 23 }, (_, h) => {
      const window = powers.slice(h * 60 + 45, h * 60 + 105);
      return window.reduce((s, p) => s + p.genW, 0) / window.length;
    });
    // Window h covers (h+1):15 ± 30 min.
    expect(hourly.indexOf(Math.max(...hourly)) + 1).toBe(11);
  });
});

describe("MeterModel: a battery shapes genW and conW", () => {
  const PV: MeterSpec = { meterId: "m", kind: "household", annualKwh: 3_000, pvKwp: 8 };
  const WITH_BATTERY: MeterSpec = { ...PV, battery: { capacityKwh: 10, powerKw: 3 } };

  it("at noon with PV, conW includes the charging power (at most the surplus and the power limit)", () => {
    // The battery draws no randomness: with the same seed both meters see the same PV and load.
    const plain = steps(new MeterModel(PV, profiles, seededRandom(6)), JUNE_21 + 10 * 3_600_000, JUNE_21 + 12 * 3_600_000, 60);
    const battery = steps(new MeterModel(WITH_BATTERY, profiles, seededRandom(6)), JUNE_21 + 10 * 3_600_000, JUNE_21 + 12 * 3_600_000, 60);
    let charged = 0;
    battery.forEach((b, i) => {
      const p = plain[i]!;
      expect(b.genW).toBe(p.genW);
      const chargeW = b.conW - p.conW;
      expect(chargeW).toBeGreaterThanOrEqual(0);
      expect(chargeW).toBeLessThanOrEqual(3_000 + 1);
      expect(chargeW).toBeLessThanOrEqual(Math.max(0, p.genW - p.conW) + 1);
      if (chargeW > 0) charged += 1;
    });
    // Half full at the start, 10 kWh: it charges for most of two sunny hours at 3 kW.
    expect(charged).toBeGreaterThan(60);
    expect(Math.max(...battery.map((b, i) => b.conW - plain[i]!.conW))).toBeGreaterThanOrEqual(2_999);
  });

  it("at night, genW is the discharge covering the load while the state of charge allows, then 0", () => {
    const night = JUNE_21 + 22 * 3_600_000;
    const small: MeterSpec = { ...PV, battery: { capacityKwh: 0.5, powerKw: 3 } };
    const plain = steps(new MeterModel(PV, profiles, seededRandom(7)), night, night + 4 * 3_600_000, 60, { sunElevationDeg: -10 });
    const battery = steps(new MeterModel(small, profiles, seededRandom(7)), night, night + 4 * 3_600_000, 60, { sunElevationDeg: -10 });
    expect(plain.every((p) => p.genW === 0)).toBe(true);
    // First step: 0.25 kWh stored is plenty for a minute; the discharge equals the load.
    expect(battery[0]!.genW).toBeGreaterThan(0);
    expect(Math.abs(battery[0]!.genW - battery[0]!.conW)).toBeLessThanOrEqual(1);
    expect(battery.map((b) => b.conW)).toEqual(plain.map((p) => p.conW));
    // 0.25 kWh × √0.9 at a few hundred watts lasts well under four hours: then nothing more.
    expect(battery.at(-1)!.genW).toBe(0);
    const deliveredKwh = battery.reduce((s, b) => s + b.genW, 0) / 60 / 1_000;
    expect(deliveredKwh).toBeGreaterThan(0.2);
    expect(deliveredKwh).toBeLessThan(0.25 * Math.sqrt(0.9) + 0.01);
  });
});

describe("MeterModel: EV and heat pump", () => {
  it("an EV adds load only from the evening to the morning", () => {
    const model = new MeterModel({ meterId: "ev", kind: "household", annualKwh: 0, pvKwp: 0, ev: { chargeKw: 11, dailyKwh: 20 } }, profiles, seededRandom(8));
    const powers = steps(model, JUNE_21, JUNE_21 + 3 * 86_400_000, 60);
    const hours = new Set(powers.flatMap((p, i) => (p.conW > 0 ? [Math.floor(i / 60) % 24] : [])));
    expect(hours.size).toBeGreaterThan(0);
    for (const hour of hours) expect(hour >= 15 || hour < 9).toBe(true);
    expect(Math.max(...powers.map((p) => p.conW))).toBe(11_000);
  });

  it("a heat pump adds load on a cold day and none on a warm one", () => {
    const spec: MeterSpec = { meterId: "hp", kind: "household", annualKwh: 0, pvKwp: 0, heatPump: { electricKw: 2, heatLossWPerK: 150 } };
    const cold = steps(new MeterModel(spec, profiles, seededRandom(9)), JUNE_21, JUNE_21 + 86_400_000, 60, { outdoorC: -2 });
    const warm = steps(new MeterModel(spec, profiles, seededRandom(9)), JUNE_21, JUNE_21 + 86_400_000, 60, { outdoorC: 20 });
    expect(new Set(cold.map((p) => p.conW))).toEqual(new Set([0, 2_000]));
    expect(warm.every((p) => p.conW === 0)).toBe(true);
  });
});

describe("MeterModel: smoothness", () => {
  /** Largest change between consecutive 1-second readings, relative to the profile's expected power at that moment. */
  function largestRelativeJump(spec: MeterSpec, seed: number): number {
    const model = new MeterModel(spec, profiles, seededRandom(seed));
    const day = Date.UTC(2026, 2, 4);
    let previous: number | undefined;
    let largest = 0;
    for (let t = day; t < day + 86_400_000; t += 1_000) {
      const { conW } = model.step(surroundings(t, 1, { sunElevationDeg: -10 }));
      const expected = profilePowerW(profiles[spec.kind], new Date(t), spec.annualKwh);
      if (previous !== undefined) largest = Math.max(largest, Math.abs(conW - previous) / expected);
      previous = conW;
    }
    return largest;
  }

  it("a business (G25) meter has no spikes: 1-second readings never jump by a quarter of the profile's power", () => {
    // The load noise moves about 2 % of the profile per second; 25 % would be a 12σ step.
    for (const seed of [10, 11]) expect(largestRelativeJump({ meterId: "b", kind: "business", annualKwh: 30_000, pvKwp: 0 }, seed)).toBeLessThan(0.25);
  });

  it("a household's 1-second readings show appliance spikes (a jump of 1.5–3.5 kW on a few-hundred-watt profile)", () => {
    expect(largestRelativeJump({ ...HOUSEHOLD, annualKwh: 5_000 }, 10)).toBeGreaterThan(1.5);
  });
});

describe("MeterModel: determinism", () => {
  const spec: MeterSpec = { meterId: "m", kind: "household", annualKwh: 4_000, pvKwp: 6, battery: { capacityKwh: 5, powerKw: 2.5 }, ev: { chargeKw: 7.4, dailyKwh: 10 } };

  it("gives identical output for the same seed and different output for another", () => {
    const run = (seed: number): MeterPower[] => steps(new MeterModel(spec, profiles, seededRandom(seed)), JUNE_21, JUNE_21 + 86_400_000, 300);
    expect(run(11)).toEqual(run(11));
    expect(run(12)).not.toEqual(run(11));
  });
});

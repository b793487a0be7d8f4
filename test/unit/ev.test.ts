import { describe, expect, it } from "vitest";
import { EvCharger } from "../../src/sim/ev.js";
import { seededRandom } from "../../src/sim/random.js";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** A Monday, 00:00 UTC. */
const START = Date.UTC(2026, 2, 2);
const STEP_S = 60;

interface Run {
  /** Charging power per step. */
  readonly watts: number[];
  /** kWh per charging night, attributed to the day the car arrived (noon to noon). */
  readonly nightlyKwh: number[];
}

function runDays(charger: EvCharger, days: number): Run {
  const watts: number[] = [];
  const nightlyKwh = Array.from({ length: days }, () => 0);
  for (let t = START; t < START + days * DAY_MS; t += STEP_S * 1_000) {
    const w = charger.powerW(t, STEP_S);
    watts.push(w);
    const night = Math.floor((t - START - 12 * HOUR_MS) / DAY_MS);
    if (w > 0 && night >= 0) nightlyKwh[night]! += (w * STEP_S) / 3_600 / 1_000;
  }
  return { watts, nightlyKwh: nightlyKwh.slice(0, days - 1) };
}

const hourOf = (stepIndex: number): number => ((stepIndex * STEP_S) / 3_600) % 24;

describe("EvCharger", () => {
  it("charges only between the evening arrival (from 15:00) and the morning departure (until 09:00)", () => {
    const { watts } = runDays(new EvCharger({ chargeKw: 11, dailyKwh: 12 }, seededRandom(1)), 60);
    let charging = 0;
    watts.forEach((w, i) => {
      if (w > 0) {
        charging += 1;
        const hour = hourOf(i);
        expect(hour >= 15 || hour < 9, `charging at ${hour.toFixed(2)} h`).toBe(true);
      }
    });
    expect(charging).toBeGreaterThan(0);
  });

  it("draws 0 at noon every day", () => {
    const charger = new EvCharger({ chargeKw: 3.7, dailyKwh: 60 }, seededRandom(2));
    for (let day = 0; day < 30; day += 1) {
      for (let t = START + day * DAY_MS; t < START + (day + 1) * DAY_MS; t += STEP_S * 1_000) {
        const w = charger.powerW(t, STEP_S);
        if (t === START + day * DAY_MS + 12 * HOUR_MS) expect(w).toBe(0);
      }
    }
  });

  it("never draws more than the wallbox power, and draws exactly it while the car still needs energy", () => {
    const { watts } = runDays(new EvCharger({ chargeKw: 7.4, dailyKwh: 20 }, seededRandom(3)), 40);
    expect(Math.max(...watts)).toBe(7_400);
    const partial = watts.filter((w) => w > 0 && w < 7_400);
    const full = watts.filter((w) => w === 7_400);
    // At most one partial (last) step per session.
    expect(partial.length).toBeLessThanOrEqual(40);
    expect(full.length).toBeGreaterThan(40 * 60);
  });

  it("delivers about dailyKwh per night on average, with the documented ±40 % spread", () => {
    const { nightlyKwh } = runDays(new EvCharger({ chargeKw: 11, dailyKwh: 10 }, seededRandom(4)), 301);
    expect(nightlyKwh).toHaveLength(300);
    const mean = nightlyKwh.reduce((s, k) => s + k, 0) / nightlyKwh.length;
    const sd = Math.sqrt(nightlyKwh.reduce((s, k) => s + (k - mean) ** 2, 0) / (nightlyKwh.length - 1));
    expect(mean).toBeGreaterThan(9);
    expect(mean).toBeLessThan(11);
    expect(sd).toBeGreaterThan(3);
    expect(sd).toBeLessThan(5);
    // Nights are not all the same.
    expect(new Set(nightlyKwh.map((k) => k.toFixed(2))).size).toBeGreaterThan(200);
  });

  it("leaves in the morning whatever it got: a weak charger is cut off after at most 18 h a night", () => {
    const { watts, nightlyKwh } = runDays(new EvCharger({ chargeKw: 1, dailyKwh: 100 }, seededRandom(5)), 31);
    for (const kwh of nightlyKwh) {
      // Arrival 15:00–23:30, departure 05:00–09:00: 5.5 h to 18 h at 1 kW.
      expect(kwh).toBeGreaterThanOrEqual(5.5 - 1e-9);
      expect(kwh).toBeLessThanOrEqual(18 + 1e-9);
    }
    const mean = nightlyKwh.reduce((s, k) => s + k, 0) / nightlyKwh.length;
    // Around 18:00 to 07:00.
    expect(mean).toBeGreaterThan(11);
    expect(mean).toBeLessThan(15);
    expect(watts.filter((w) => w > 0).every((w) => w === 1_000)).toBe(true);
  });

  it("gives the same sessions for the same random seed", () => {
    const a = runDays(new EvCharger({ chargeKw: 11, dailyKwh: 10 }, seededRandom(6)), 5).watts;
    const b = runDays(new EvCharger({ chargeKw: 11, dailyKwh: 10 }, seededRandom(6)), 5).watts;
    const c = runDays(new EvCharger({ chargeKw: 11, dailyKwh: 10 }, seededRandom(7)), 5).watts;
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });
});

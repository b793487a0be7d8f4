import { describe, expect, it } from "vitest";
import { pvPowerW, sunElevationDeg } from "../../src/sim/solar.js";

// Central Germany.
const LAT = 51;
const LON = 10;

function maxElevationOfDay(year: number, month: number, day: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let minute = 0; minute < 24 * 60; minute += 1) {
    max = Math.max(max, sunElevationDeg(new Date(Date.UTC(year, month, day, 0, minute)), LAT, LON));
  }
  return max;
}

describe("sunElevationDeg", () => {
  it("puts the sun below the horizon at midnight in Germany, summer and winter", () => {
    expect(sunElevationDeg(new Date(Date.UTC(2026, 5, 21, 23, 0)), LAT, LON)).toBeLessThan(0);
    expect(sunElevationDeg(new Date(Date.UTC(2026, 11, 21, 23, 0)), LAT, LON)).toBeLessThan(0);
  });

  it("reaches 90° − latitude + 23.44° at the June solstice", () => {
    expect(maxElevationOfDay(2026, 5, 21)).toBeCloseTo(90 - LAT + 23.44, 0);
  });

  it("reaches 90° − latitude − 23.44° at the December solstice", () => {
    expect(maxElevationOfDay(2026, 11, 21)).toBeCloseTo(90 - LAT - 23.44, 0);
  });

  it("has the sun higher at noon in June than at noon in December", () => {
    const june = sunElevationDeg(new Date(Date.UTC(2026, 5, 21, 11, 20)), LAT, LON);
    const december = sunElevationDeg(new Date(Date.UTC(2026, 11, 21, 11, 20)), LAT, LON);
    expect(june).toBeGreaterThan(december + 40);
  });

  it("puts solar noon earlier in UTC further east", () => {
    const at = (lon: number) => sunElevationDeg(new Date(Date.UTC(2026, 2, 20, 11, 0)), LAT, lon);
    expect(at(15)).toBeGreaterThan(at(6));
  });
});

describe("pvPowerW", () => {
  it("is 0 with the sun at or below the horizon", () => {
    expect(pvPowerW(0, 10, 1)).toBe(0);
    expect(pvPowerW(-20, 10, 1)).toBe(0);
  });

  it("is 0 at midnight in Germany", () => {
    const elevation = sunElevationDeg(new Date(Date.UTC(2026, 5, 21, 0, 0)), LAT, LON);
    expect(pvPowerW(elevation, 10, 1)).toBe(0);
  });

  it("is 85 % of the peak power with the sun overhead and a clear sky", () => {
    expect(pvPowerW(90, 10, 1)).toBeCloseTo(8_500, 6);
  });

  it("is higher at noon in June than at noon in December", () => {
    const june = pvPowerW(sunElevationDeg(new Date(Date.UTC(2026, 5, 21, 12)), LAT, LON), 10, 1);
    const december = pvPowerW(sunElevationDeg(new Date(Date.UTC(2026, 11, 21, 12)), LAT, LON), 10, 1);
    expect(december).toBeGreaterThan(0);
    expect(june).toBeGreaterThan(2 * december);
  });

  it("scales with the clearness and clamps it to 0…1", () => {
    expect(pvPowerW(45, 10, 0.5)).toBeCloseTo(pvPowerW(45, 10, 1) / 2, 9);
    expect(pvPowerW(45, 10, 1.7)).toBe(pvPowerW(45, 10, 1));
    expect(pvPowerW(45, 10, -0.3)).toBe(0);
  });

  it("scales with the installed peak power", () => {
    expect(pvPowerW(30, 6, 1)).toBeCloseTo(2 * pvPowerW(30, 3, 1), 9);
  });
});

describe("solar noon and the PV peak in Munich (48.14 N, 11.58 E)", () => {
  const MUNICH = { lat: 48.14, lon: 11.58 };

  /** The UTC minute of the day with the highest value of `f`. */
  function argmaxMinute(year: number, month: number, day: number, f: (date: Date) => number): { minute: number; value: number } {
    let best = { minute: -1, value: Number.NEGATIVE_INFINITY };
    for (let minute = 0; minute < 24 * 60; minute += 1) {
      const value = f(new Date(Date.UTC(year, month, day, 0, minute)));
      if (value > best.value) best = { minute, value };
    }
    return best;
  }

  // Solar noon in UTC from the equation of time (NOAA): 12:00 − 4 min/° × 11.58° − EoT.
  it.each([
    ["the June solstice", 5, 21, 11 * 60 + 15],
    ["the December solstice", 11, 21, 11 * 60 + 12],
    ["the March equinox", 2, 20, 11 * 60 + 21],
    ["mid-February (latest solar noon)", 1, 11, 11 * 60 + 28],
    ["early November (earliest solar noon)", 10, 3, 10 * 60 + 58],
  ])("puts solar noon at the NOAA time on %s (± 3 min)", (_, month, day, expectedMinute) => {
    const { minute } = argmaxMinute(2026, month, day, (d) => sunElevationDeg(d, MUNICH.lat, MUNICH.lon));
    expect(Math.abs(minute - expectedMinute)).toBeLessThanOrEqual(3);
  });

  it.each([
    ["June", 5, 21, 0.7, 0.8],
    ["December", 11, 21, 0.15, 0.25],
  ])("peaks between 11:10 and 11:25 UTC in %s at a fraction of kWp typical of the season", (_, month, day, low, high) => {
    const kWp = 10;
    const peak = argmaxMinute(2026, month, day, (d) => pvPowerW(sunElevationDeg(d, MUNICH.lat, MUNICH.lon), kWp, 1));
    expect(peak.minute).toBeGreaterThanOrEqual(11 * 60 + 10);
    expect(peak.minute).toBeLessThanOrEqual(11 * 60 + 25);
    expect(peak.value).toBeLessThanOrEqual(kWp * 1000);
    expect(peak.value / (kWp * 1000)).toBeGreaterThan(low);
    expect(peak.value / (kWp * 1000)).toBeLessThan(high);
  });

  it("is exactly 0 from sunset to sunrise and positive in between", () => {
    let nightMinutes = 0;
    for (let minute = 0; minute < 24 * 60; minute += 1) {
      const date = new Date(Date.UTC(2026, 5, 21, 0, minute));
      const elevation = sunElevationDeg(date, MUNICH.lat, MUNICH.lon);
      const watts = pvPowerW(elevation, 10, 1);
      if (elevation <= 0) {
        expect(watts).toBe(0);
        nightMinutes += 1;
      } else expect(watts).toBeGreaterThan(0);
    }
    // About 8 h of night around the June solstice.
    expect(nightMinutes).toBeGreaterThan(7 * 60);
    expect(nightMinutes).toBeLessThan(9 * 60);
  });
});

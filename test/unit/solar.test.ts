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

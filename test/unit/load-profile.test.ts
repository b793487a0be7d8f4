import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DAY_TYPES, dayOfYear, dayTypeOf, dynamisationFactor, parseLoadProfile, profilePowerW } from "../../src/sim/load-profile.js";

const H25 = readFileSync(new URL("../../fixtures/bdew-2025/h25.csv", import.meta.url), "utf8");
const profile = parseLoadProfile(H25, true);
const staticProfile = parseLoadProfile(H25, false);

/** kWh over a calendar year, sampling the average power every 15 minutes. */
function yearKwh(p: typeof profile, year: number, annualKwh: number): number {
  let kwh = 0;
  for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += 900_000) kwh += (profilePowerW(p, new Date(t), annualKwh) * 0.25) / 1000;
  return kwh;
}

describe("parseLoadProfile", () => {
  it("reads 12 months × 3 day types × 96 quarter hours", () => {
    expect(profile.wattsPerKwh).toHaveLength(12);
    for (const month of profile.wattsPerKwh) {
      expect(Object.keys(month).sort()).toEqual([...DAY_TYPES].sort());
      for (const dayType of DAY_TYPES) expect(month[dayType]).toHaveLength(96);
    }
  });

  it("fills every cell with a positive value (no column left unread)", () => {
    for (const month of profile.wattsPerKwh) for (const dayType of DAY_TYPES) expect(Math.min(...month[dayType])).toBeGreaterThan(0);
  });

  it("converts kWh per quarter hour for 1 GWh/a to W per kWh/a (× 4 / 1000)", () => {
    // January, weekday, 00:00–00:15 is 20.126 kWh in the CSV; January Saturday 22.152; December weekday 19.959.
    expect(profile.wattsPerKwh[0]!.WT[0]).toBeCloseTo(0.080504, 9);
    expect(profile.wattsPerKwh[0]!.SA[0]).toBeCloseTo(0.088608, 9);
    expect(profile.wattsPerKwh[11]!.WT[0]).toBeCloseTo(0.079836, 9);
  });

  it("records whether the dynamisation factor applies", () => {
    expect(profile.dynamic).toBe(true);
    expect(staticProfile.dynamic).toBe(false);
  });

  it("rejects a table without 96 quarter-hour rows", () => {
    const short = H25.trim().split("\n").slice(0, 50).join("\n");
    expect(() => parseLoadProfile(short, true)).toThrow(/96 quarter-hour rows/);
  });

  it("rejects a column with an unknown month", () => {
    expect(() => parseLoadProfile(H25.replace(",Januar,", ",Janvier,"), true)).toThrow(/unknown BDEW column Janvier/);
  });
});

describe("profilePowerW", () => {
  it("a year of the H25 household for 1,000 kWh/a sums to about 1,000 kWh", () => {
    for (const year of [2026, 2028]) {
      const kwh = yearKwh(profile, year, 1_000);
      expect(kwh).toBeGreaterThan(950);
      expect(kwh).toBeLessThan(1_050);
    }
  });

  it("scales linearly with the annual consumption", () => {
    const date = new Date(Date.UTC(2026, 2, 10, 18, 7));
    expect(profilePowerW(profile, date, 4_000)).toBeCloseTo(4 * profilePowerW(profile, date, 1_000), 9);
  });

  it("is the quarter hour's value at the quarter hour's centre", () => {
    // Tuesday 13 January 2026, 00:07:30 is the centre of 00:00–00:15 (20.126 kWh per GWh/a).
    const date = new Date(Date.UTC(2026, 0, 13, 0, 7, 30));
    expect(profilePowerW(staticProfile, date, 1_000)).toBeCloseTo(0.080504 * 1_000, 6);
    expect(profilePowerW(profile, date, 1_000)).toBeCloseTo(0.080504 * 1_000 * dynamisationFactor(13), 6);
  });

  it("interpolates linearly between quarter-hour centres", () => {
    // 00:15 lies halfway between the centres of 00:00–00:15 (20.126) and 00:15–00:30 (18.915).
    const date = new Date(Date.UTC(2026, 0, 13, 0, 15));
    expect(profilePowerW(staticProfile, date, 1_000)).toBeCloseTo(((20.126 + 18.915) / 2) * 4, 6);
  });

  it("uses the Saturday column on a Saturday", () => {
    const saturday = new Date(Date.UTC(2026, 0, 10, 0, 7, 30));
    expect(profilePowerW(staticProfile, saturday, 1_000)).toBeCloseTo(22.152 * 4, 6);
  });
});

describe("dayTypeOf", () => {
  it("maps Monday to Friday to WT, Saturday to SA and Sunday to FT (in UTC)", () => {
    // 2026-11-16 is a Monday.
    const days = Array.from({ length: 7 }, (_, i) => dayTypeOf(new Date(Date.UTC(2026, 10, 16 + i, 12))));
    expect(days).toEqual(["WT", "WT", "WT", "WT", "WT", "SA", "FT"]);
  });

  it("decides by the UTC day, not the local one", () => {
    expect(dayTypeOf(new Date("2026-11-21T23:59:59Z"))).toBe("SA");
    expect(dayTypeOf(new Date("2026-11-22T00:00:00Z"))).toBe("FT");
  });
});

describe("dayOfYear", () => {
  it("counts 1 January as day 1 and 31 December of a leap year as 366", () => {
    expect(dayOfYear(new Date(Date.UTC(2026, 0, 1, 23, 59)))).toBe(1);
    expect(dayOfYear(new Date(Date.UTC(2026, 1, 1)))).toBe(32);
    expect(dayOfYear(new Date(Date.UTC(2028, 11, 31, 12)))).toBe(366);
  });
});

describe("dynamisationFactor", () => {
  it("follows BDEW's polynomial: about 1.24 on 1 January", () => {
    expect(dynamisationFactor(1)).toBeCloseTo(1.24203, 5);
  });

  it("lowers summer demand and raises winter demand", () => {
    expect(dynamisationFactor(180)).toBeCloseTo(0.79825, 4);
    expect(dynamisationFactor(180)).toBeLessThan(1);
    expect(dynamisationFactor(365)).toBeGreaterThan(1.2);
  });

  it("is not applied to a static profile", () => {
    const summer = new Date(Date.UTC(2026, 5, 30, 12, 7, 30));
    const ratio = profilePowerW(profile, summer, 1_000) / profilePowerW(staticProfile, summer, 1_000);
    expect(ratio).toBeCloseTo(dynamisationFactor(dayOfYear(summer)), 9);
  });
});

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CommunityModel, communityIdOf, describeCommunity, meterIdOf } from "../../src/sim/community-model.js";
import { parseLoadProfile } from "../../src/sim/load-profile.js";
import { sunElevationDeg } from "../../src/sim/solar.js";

const profile = parseLoadProfile(readFileSync(new URL("../../fixtures/bdew-2025/h25.csv", import.meta.url), "utf8"), true);
const JUNE_NOON = new Date(Date.UTC(2026, 5, 21, 11, 0));
const JUNE_MIDNIGHT = new Date(Date.UTC(2026, 5, 21, 23, 0));

describe("ids of simulated communities and meters", () => {
  it("numbers communities from 1 and meters from 001", () => {
    expect(communityIdOf(0)).toBe("community1");
    expect(communityIdOf(9)).toBe("community10");
    expect(meterIdOf(0)).toBe("meter001");
    expect(meterIdOf(41)).toBe("meter042");
  });
});

describe("describeCommunity", () => {
  it("is the same for the same seed", () => {
    expect(describeCommunity("community1", 20, 7)).toEqual(describeCommunity("community1", 20, 7));
  });

  it("differs for another seed and for another community id", () => {
    const spec = describeCommunity("community1", 20, 7);
    expect(describeCommunity("community1", 20, 8)).not.toEqual(spec);
    expect(describeCommunity("community2", 20, 7).meters).not.toEqual(spec.meters);
  });

  it("describes meterCount households with unique ids in Germany", () => {
    const spec = describeCommunity("community1", 50, 1);
    expect(spec.communityId).toBe("community1");
    expect(spec.meters.map((m) => m.meterId)).toEqual(Array.from({ length: 50 }, (_, i) => meterIdOf(i)));
    expect(spec.latitudeDeg).toBeGreaterThanOrEqual(48);
    expect(spec.latitudeDeg).toBeLessThan(53);
    expect(spec.longitudeDeg).toBeGreaterThanOrEqual(7);
    expect(spec.longitudeDeg).toBeLessThan(13);
  });

  it("gives households 2,000–6,000 kWh/a and some of them 3–10 kWp of PV", () => {
    const spec = describeCommunity("community1", 200, 1);
    for (const meter of spec.meters) {
      expect(meter.annualKwh).toBeGreaterThanOrEqual(2_000);
      expect(meter.annualKwh).toBeLessThanOrEqual(6_000);
      expect(Number.isInteger(meter.annualKwh)).toBe(true);
      if (meter.kWp > 0) {
        expect(meter.kWp).toBeGreaterThanOrEqual(3);
        expect(meter.kWp).toBeLessThanOrEqual(10);
      }
    }
    const prosumers = spec.meters.filter((m) => m.kWp > 0).length;
    // About 40 % have PV.
    expect(prosumers).toBeGreaterThan(50);
    expect(prosumers).toBeLessThan(110);
  });
});

describe("CommunityModel.powerAt", () => {
  const spec = describeCommunity("community1", 30, 3);

  it("gives one reading per meter, in whole non-negative watts", () => {
    const model = new CommunityModel(spec, profile, 3);
    for (let minute = 0; minute < 24 * 60; minute += 37) {
      const powers = model.powerAt(new Date(Date.UTC(2026, 5, 21, 0, minute)));
      expect(powers.map((p) => p.meterId)).toEqual(spec.meters.map((m) => m.meterId));
      for (const { genW, conW } of powers) {
        expect(Number.isInteger(genW) && genW >= 0).toBe(true);
        expect(Number.isInteger(conW) && conW >= 0).toBe(true);
      }
    }
  });

  it("PV meters produce 0 at night", () => {
    expect(sunElevationDeg(JUNE_MIDNIGHT, spec.latitudeDeg, spec.longitudeDeg)).toBeLessThan(0);
    const powers = new CommunityModel(spec, profile, 3).powerAt(JUNE_MIDNIGHT);
    expect(spec.meters.some((m) => m.kWp > 0)).toBe(true);
    expect(powers.map((p) => p.genW)).toEqual(spec.meters.map(() => 0));
  });

  it("PV meters produce at noon in June, the others never", () => {
    const powers = new CommunityModel(spec, profile, 3).powerAt(JUNE_NOON);
    spec.meters.forEach((meter, i) => {
      if (meter.kWp > 0) expect(powers[i]!.genW).toBeGreaterThan(0);
      else expect(powers[i]!.genW).toBe(0);
    });
  });

  it("a PV meter never produces more than its peak power", () => {
    const model = new CommunityModel(spec, profile, 3);
    for (let minute = 8 * 60; minute < 14 * 60; minute += 5) {
      const powers = model.powerAt(new Date(Date.UTC(2026, 5, 21, 0, minute)));
      spec.meters.forEach((meter, i) => expect(powers[i]!.genW).toBeLessThanOrEqual(meter.kWp * 1000));
    }
  });

  it("every household consumes something", () => {
    const powers = new CommunityModel(spec, profile, 3).powerAt(JUNE_MIDNIGHT);
    for (const p of powers) expect(p.conW).toBeGreaterThan(0);
  });

  it("is the same for the same seed and differs for another", () => {
    const run = (seed: number) => {
      const model = new CommunityModel(spec, profile, seed);
      return [0, 1, 2, 3].map((s) => model.powerAt(new Date(JUNE_NOON.getTime() + s * 1_000)));
    };
    expect(run(3)).toEqual(run(3));
    expect(run(4)).not.toEqual(run(3));
  });
});

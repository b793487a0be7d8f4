import { describe, expect, it } from "vitest";
import { formatTodayLine } from "../../src/tui/today-kpis.js";

const KPIS = { genWh: 12_400, conWh: 18_940, selfSufficiency: 0.6104, selfConsumption: 0.8349 };

describe("formatTodayLine", () => {
  it("shows today's energy in kWh and the fractions as whole percents", () => {
    expect(formatTodayLine({ kpis: KPIS, failed: false })).toBe("today  gen 12.4 kWh · con 18.9 kWh · self-sufficiency 61 % · self-consumption 83 %");
  });

  it("shows a fraction without energy to divide by as –", () => {
    expect(formatTodayLine({ kpis: { genWh: 0, conWh: 0, selfSufficiency: null, selfConsumption: null }, failed: false })).toBe(
      "today  gen 0.0 kWh · con 0.0 kWh · self-sufficiency – · self-consumption –",
    );
  });

  it("keeps the last value after a failed refresh and marks it stale", () => {
    expect(formatTodayLine({ kpis: KPIS, failed: true })).toBe("today  gen 12.4 kWh · con 18.9 kWh · self-sufficiency 61 % · self-consumption 83 %  (stale)");
  });

  it("says so briefly before the first answer and when there was none", () => {
    expect(formatTodayLine(undefined)).toBe("today  …");
    expect(formatTodayLine({ failed: true })).toBe("today  – (kWh not available)");
  });
});

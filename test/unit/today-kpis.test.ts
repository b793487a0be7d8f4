import { describe, expect, it } from "vitest";
import { formatTodayLine, todayKpisFromJson } from "../../src/tui/today-kpis.js";

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

describe("todayKpisFromJson", () => {
  it("takes the fields of a /kpis answer", () => {
    const body = { communityId: "community1", period: "today", timeZone: "UTC", start: "2026-11-22T00:00:00.000Z", ...KPIS, importWh: 1, exportWh: 2, sharedWh: 3, selfConsumption: null };
    expect(todayKpisFromJson(body)).toEqual({ ...KPIS, selfConsumption: null });
  });

  it("refuses anything else", () => {
    expect(todayKpisFromJson(undefined)).toBeUndefined();
    expect(todayKpisFromJson({ error: "energy history is off in this API" })).toBeUndefined();
    expect(todayKpisFromJson({ ...KPIS, genWh: "12" })).toBeUndefined();
    expect(todayKpisFromJson({ ...KPIS, selfSufficiency: "61 %" })).toBeUndefined();
  });
});

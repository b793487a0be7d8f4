import { describe, expect, it } from "vitest";
import { backoffMs } from "../../src/api-client/follow.js";
import { kpisFromJson } from "../../src/api-client/kpis.js";

const KPIS = { genWh: 12_400, conWh: 18_940, selfSufficiency: 0.6104, selfConsumption: 0.8349 };

describe("backoffMs", () => {
  it("starts at 500 ms and doubles with every attempt", () => {
    expect([1, 2, 3, 4, 5, 6].map(backoffMs)).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000]);
  });

  it("caps at 30 s", () => {
    expect(backoffMs(7)).toBe(30_000);
    expect(backoffMs(100)).toBe(30_000);
  });

  it("treats attempt 0 like the first attempt", () => {
    expect(backoffMs(0)).toBe(500);
  });
});

describe("kpisFromJson", () => {
  it("takes the fields of a /kpis answer", () => {
    const body = { communityId: "community1", period: "today", timeZone: "UTC", start: "2026-11-22T00:00:00.000Z", ...KPIS, importWh: 1, exportWh: 2, sharedWh: 3, selfConsumption: null };
    expect(kpisFromJson(body)).toEqual({ ...KPIS, selfConsumption: null });
  });

  it("refuses anything else", () => {
    expect(kpisFromJson(undefined)).toBeUndefined();
    expect(kpisFromJson({ error: "energy history is off in this API" })).toBeUndefined();
    expect(kpisFromJson({ ...KPIS, genWh: "12" })).toBeUndefined();
    expect(kpisFromJson({ ...KPIS, selfSufficiency: "61 %" })).toBeUndefined();
  });
});

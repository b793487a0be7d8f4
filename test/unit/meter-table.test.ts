import { describe, expect, it } from "vitest";
import type { MeterListJson } from "../../src/energy/meter-list.js";
import { addSamples, METER_SAMPLES, meterTableLines } from "../../src/tui/meter-table.js";

/** The monitor's meter table (issue 23): pure lines from the API's meter list. */

const meter = (meterId: string, netW: number, stale = false) => ({ meterId, genW: Math.max(netW, 0), conW: Math.max(-netW, 0), netW, measuredAt: "2026-11-22T12:00:00.000Z", cadenceMs: 1_000, holdMs: 31_000, stale, ageMs: stale ? 45_000 : 0 });
const list = (meters: MeterListJson["meters"]): MeterListJson => ({ communityId: "c1", measuredAt: "2026-11-22T12:00:00.000Z", count: meters.length, stale: meters.filter((m) => m.stale).length, meters });

describe("meterTableLines", () => {
  it("lists every meter that fits, exporters first, a stale one marked with its age", () => {
    const lines = meterTableLines(list([meter("pv", 3_000), meter("quiet", 500, true), meter("house", -1_200)]), new Map(), 80, 20, "none");
    expect(lines[0]).toBe("c1 · 3 meters, 1 stale · net power, last 44s");
    expect(lines.slice(2).map((line) => line.split(/\s+/).filter(Boolean))).toEqual([
      ["pv", "+3.00", "kW", "0ms"],
      ["quiet", "+0.50", "kW", "45s", "stale"],
      ["house", "-1.20", "kW", "0ms"],
    ]);
  });

  it("keeps the biggest exporters and importers when not all fit, saying how many are left out", () => {
    const meters = Array.from({ length: 20 }, (_, i) => meter(`m${String(i).padStart(2, "0")}`, 1_000 - i * 100));
    const lines = meterTableLines(list(meters), new Map(), 80, 8, "none");
    expect(lines.slice(2).map((line) => line.trim().split(/\s+/)[0])).toEqual(["m00", "m01", "m02", "…", "m18", "m19"]);
    expect(lines[5]).toContain("… 15 more");
  });

  it("draws each meter's samples as a sparkline, a stale sample as a gap", () => {
    const samples = new Map<string, number[]>();
    for (const netW of [0, 500, 1_000]) addSamples(samples, list([meter("pv", netW)]));
    addSamples(samples, list([meter("pv", 0, true)]));
    expect(samples.get("pv")).toEqual([0, 500, 1_000, Number.NaN]);
    expect(meterTableLines(list([meter("pv", 0)]), samples, 80, 10, "none")[2]).toMatch(/▁▅█ $/);
    for (let i = 0; i < METER_SAMPLES + 5; i += 1) addSamples(samples, list([meter("pv", i)]));
    expect(samples.get("pv")).toHaveLength(METER_SAMPLES);
  });
});

import { describe, expect, it } from "vitest";
import { type PowerReading, WMS_PER_WH } from "../../src/energy/meter-energy.js";
import { heldEnergy, integrateReadings } from "../helpers/energy.js";

const T = Date.UTC(2026, 10, 22, 12); // 12:00:00 UTC, a minute boundary
const S = 1_000;
const MIN = 60_000;
const reading = (atMs: number, genW: number, conW: number): PowerReading => ({ genW, conW, measuredAtMs: atMs });
const wh = (wms: number) => wms / WMS_PER_WH;

describe("heldEnergy", () => {
  it("splits 1 kW held for 90 s at the minute boundary: 16.667 Wh and 8.333 Wh", () => {
    const slices = heldEnergy(reading(T, 0, 1000), reading(T + 90 * S, 0, 0), 5 * MIN);
    expect(slices.map((s) => s.minuteStartMs)).toEqual([T, T + MIN]);
    expect(slices.map((s) => s.conWms)).toEqual([60_000_000, 30_000_000]);
    expect(wh(slices[0]!.conWms)).toBeCloseTo(16.667, 3);
    expect(wh(slices[1]!.conWms)).toBeCloseTo(8.333, 3);
  });

  it("holds the power only up to the hold limit: the rest of a longer gap is missing", () => {
    const slices = heldEnergy(reading(T, 2000, 0), reading(T + 10 * MIN, 2000, 0), 30 * S);
    expect(slices).toEqual([{ minuteStartMs: T, genWms: 2000 * 30 * S, conWms: 0, importWms: 0, exportWms: 2000 * 30 * S }]);
  });

  it("takes import and export from the meter's net power: 3 kW made and 1 kW used export 2 kW", () => {
    const [slice] = heldEnergy(reading(T, 3000, 1000), reading(T + 36 * S, 0, 0), MIN);
    // 36 s = 0.01 h: 30 Wh made, 10 Wh used, 20 Wh exported, nothing imported.
    expect([wh(slice!.genWms), wh(slice!.conWms), wh(slice!.exportWms), wh(slice!.importWms)]).toEqual([30, 10, 20, 0]);
  });

  it("closes nothing for a duplicate or an older reading", () => {
    expect(heldEnergy(reading(T, 1000, 0), reading(T, 1000, 0), MIN)).toEqual([]);
    expect(heldEnergy(reading(T, 1000, 0), reading(T - S, 1000, 0), MIN)).toEqual([]);
  });
});

describe("integrateReadings", () => {
  it("does not net a meter's import against its own export at another moment", () => {
    // 30 s exporting 2 kW, then 30 s importing 2 kW, in one minute.
    const minutes = integrateReadings([reading(T, 3000, 1000), reading(T + 30 * S, 0, 2000), reading(T + MIN, 0, 0)], MIN);
    expect(minutes.get(T)).toEqual({ genWms: 3000 * 30 * S, conWms: 3000 * 30 * S, importWms: 2000 * 30 * S, exportWms: 2000 * 30 * S });
  });

  it("integrates a ramp of 0 → 6 kW sampled every 10 s step by step: 41.667 Wh in the minute", () => {
    const ramp = Array.from({ length: 7 }, (_, i) => reading(T + i * 10 * S, i * 1000, 0));
    const minutes = integrateReadings(ramp, 30 * S);
    // Each sample holds for 10 s: (0 + 1 + 2 + 3 + 4 + 5) kW × 10 s = 150 kJ = 41.667 Wh.
    expect(minutes.get(T)!.genWms).toBe(150_000 * S);
    expect(wh(minutes.get(T)!.genWms)).toBeCloseTo(41.667, 3);
    expect(minutes.has(T + MIN)).toBe(false);
  });

  it("gives 1 kWh for 1 kW over an hour of readings every 10 s, whatever the minute split", () => {
    const readings = Array.from({ length: 361 }, (_, i) => reading(T + 7 * S + i * 10 * S, 0, 1000));
    const minutes = integrateReadings(readings, 30 * S);
    const total = [...minutes.values()].reduce((sum, m) => sum + m.conWms, 0);
    expect(wh(total)).toBe(1000);
    expect(minutes.size).toBe(61); // starts at 12:00:07, so 61 minutes are touched
    expect(wh(minutes.get(T + 30 * MIN)!.conWms)).toBeCloseTo(1000 / 60, 9);
  });

  it("counts a gap longer than the hold limit as missing", () => {
    const minutes = integrateReadings([reading(T, 0, 1200), reading(T + 5 * MIN, 0, 1200), reading(T + 5 * MIN + 10 * S, 0, 0)], 30 * S);
    expect(wh(minutes.get(T)!.conWms)).toBe(10); // 30 s of 1.2 kW, not 5 minutes
    expect([...minutes.keys()]).toEqual([T, T + 5 * MIN]);
    expect(wh(minutes.get(T + 5 * MIN)!.conWms)).toBeCloseTo(1200 / 360, 9);
  });

  it("does not change the energy for a duplicate reading", () => {
    const once = [reading(T, 500, 0), reading(T + 20 * S, 700, 0), reading(T + 40 * S, 0, 0)];
    const twice = [once[0]!, once[1]!, once[1]!, once[2]!, once[2]!];
    expect(integrateReadings(twice, MIN)).toEqual(integrateReadings(once, MIN));
  });

  it("ignores a reading older than the last accepted one, as the live totals do", () => {
    const inOrder = [reading(T, 500, 0), reading(T + 20 * S, 700, 0), reading(T + 40 * S, 0, 0)];
    const lateMiddle = [inOrder[0]!, inOrder[2]!, inOrder[1]!];
    // The reading at 20 s comes after the one at 40 s: 500 W holds for the 30 s limit, nothing after.
    expect(integrateReadings(lateMiddle, 30 * S).get(T)!.genWms).toBe(500 * 30 * S);
    expect(integrateReadings(inOrder, 30 * S).get(T)!.genWms).toBe(500 * 20 * S + 700 * 20 * S);
  });
});

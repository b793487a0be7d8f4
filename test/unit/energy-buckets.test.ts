import { describe, expect, it } from "vitest";
import { SETTLEMENT_INTERVAL_MS, rollUp, settle } from "../../src/energy/buckets.js";
import { daysIn, hoursIn } from "../../src/energy/calendar.js";
import { type Energy, type PowerReading, addMinutes } from "../../src/energy/meter-energy.js";
import { heldEnergy, integrateReadings } from "../helpers/energy.js";

const T = Date.UTC(2026, 5, 21, 10); // 10:00 UTC
const MIN = 60_000;
const QUARTER = SETTLEMENT_INTERVAL_MS;
const reading = (atMs: number, genW: number, conW: number): PowerReading => ({ genW, conW, measuredAtMs: atMs });

/** A community's minutes from each meter's readings. */
function community(...meters: PowerReading[][]): Map<number, Energy> {
  const minutes = new Map<number, Energy>();
  for (const readings of meters) {
    let last: PowerReading | undefined;
    for (const r of readings) {
      if (last) addMinutes(minutes, heldEnergy(last, r, QUARTER));
      last = r;
    }
  }
  return minutes;
}

/** A meter at constant power over [fromMs, toMs). */
const constant = (fromMs: number, toMs: number, genW: number, conW: number) => [reading(fromMs, genW, conW), reading(toMs, 0, 0)];

describe("settle", () => {
  it("shares a PV meter's export with a neighbour's import over a settlement interval", () => {
    // PV house: 5 kW made, 1 kW used → 4 kW export. Neighbour: 3 kW used → 3 kW import. A quarter hour.
    const [bucket] = settle(community(constant(T, T + QUARTER, 5000, 1000), constant(T, T + QUARTER, 0, 3000)), QUARTER);
    expect(bucket).toEqual({
      startMs: T,
      endMs: T + QUARTER,
      genWh: 1250,
      conWh: 1000,
      importWh: 750,
      exportWh: 1000,
      sharedWh: 750,
      gridImportWh: 0,
      gridExportWh: 250,
      selfSufficiency: 1,
      selfConsumption: 0.8,
    });
  });

  it("gives self-sufficiency 0.5 when the neighbours import twice what PV exports", () => {
    // PV: 2 kW made, nothing used; two neighbours use 2 kW each: 4 kW consumed, 2 kW from the grid.
    const minutes = community(constant(T, T + QUARTER, 2000, 0), constant(T, T + QUARTER, 0, 2000), constant(T, T + QUARTER, 0, 2000));
    const [bucket] = settle(minutes, QUARTER);
    expect([bucket!.sharedWh, bucket!.gridImportWh, bucket!.gridExportWh]).toEqual([500, 500, 0]);
    expect([bucket!.selfSufficiency, bucket!.selfConsumption]).toEqual([0.5, 1]);
  });

  it("matches shared energy within a bucket: export in one minute covers import in the next of the same quarter", () => {
    const minutes = community(constant(T, T + MIN, 1200, 0), constant(T + MIN, T + 2 * MIN, 0, 1200));
    expect(settle(minutes, MIN).map((b) => b.sharedWh)).toEqual([0, 0]);
    const [quarter] = settle(minutes, QUARTER);
    expect([quarter!.sharedWh, quarter!.gridImportWh, quarter!.gridExportWh]).toEqual([20, 0, 0]);
  });

  it("splits a reading that spans two quarter hours at the boundary", () => {
    const minutes = community(constant(T + 10 * MIN, T + 20 * MIN, 0, 600));
    expect(settle(minutes, QUARTER).map((b) => [b.startMs, b.conWh])).toEqual([
      [T, 50],
      [T + QUARTER, 50],
    ]);
  });

  it("has no KPI where there is nothing to divide by: no consumption, no generation", () => {
    const [night] = settle(community(constant(T, T + QUARTER, 0, 400)), QUARTER);
    expect([night!.selfSufficiency, night!.selfConsumption]).toEqual([0, null]);
    const [idle] = settle(community(constant(T, T + QUARTER, 400, 0)), QUARTER);
    expect([idle!.selfSufficiency, idle!.selfConsumption]).toEqual([null, 0]);
  });

  it("leaves a meter's missing time out: a silent PV meter shares nothing after the hold limit", () => {
    // PV reports at 10:00 and again only at 10:30; with a 1-minute hold its 4 kW count for one minute.
    const pv = [reading(T, 4000, 0), reading(T + 30 * MIN, 0, 0)];
    const neighbour = constant(T, T + QUARTER, 0, 4000);
    const minutes = integrateReadings(pv, MIN);
    addMinutes(minutes, heldEnergy(neighbour[0]!, neighbour[1]!, QUARTER));
    const [bucket] = settle(minutes, QUARTER);
    expect([bucket!.genWh, bucket!.sharedWh, bucket!.gridImportWh]).toEqual([4000 / 60, 4000 / 60, 1000 - 4000 / 60]);
  });
});

describe("rollUp", () => {
  it("adds up the shared energy of each settlement interval, never matching across intervals", () => {
    // PV exports 1 kW in the first quarter, the neighbour imports 1 kW in the second: nothing shared.
    const minutes = community(constant(T, T + QUARTER, 1000, 0), constant(T + QUARTER, T + 2 * QUARTER, 0, 1000));
    const [hour] = rollUp(minutes, hoursIn("UTC"));
    expect(hour).toMatchObject({ startMs: T, endMs: T + 4 * QUARTER, genWh: 250, conWh: 250, sharedWh: 0, gridImportWh: 250, gridExportWh: 250 });
    expect([hour!.selfSufficiency, hour!.selfConsumption]).toEqual([0, 0]);
  });

  it("recomputes the KPIs of a day from its sums, not as an average of the buckets' KPIs", () => {
    const day = Date.UTC(2026, 5, 21);
    // Morning quarter: PV 2 kW exported, neighbour 1 kW imported (shared 250 Wh, 250 Wh to the grid).
    // Evening quarter: neighbour 3 kW from the grid.
    const pv = constant(day + 8 * 4 * QUARTER, day + 8 * 4 * QUARTER + QUARTER, 2000, 0);
    const morning = constant(day + 8 * 4 * QUARTER, day + 8 * 4 * QUARTER + QUARTER, 0, 1000);
    const evening = constant(day + 20 * 4 * QUARTER, day + 20 * 4 * QUARTER + QUARTER, 0, 3000);
    const [total] = rollUp(community(pv, morning, evening), daysIn("UTC"));
    expect(total).toMatchObject({ startMs: day, endMs: day + 96 * QUARTER, genWh: 500, conWh: 1000, sharedWh: 250, gridImportWh: 750, gridExportWh: 250 });
    expect(total!.selfSufficiency).toBe(0.25);
    expect(total!.selfConsumption).toBe(0.5);
  });
});

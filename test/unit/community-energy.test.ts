import { describe, expect, it } from "vitest";
import { CommunityState, type MeterState } from "../../src/aggregator/community-state.js";
import { type DirtyDay } from "../../src/aggregator/day-ledger.js";
import { type Energy, WMS_PER_WH } from "../../src/energy/meter-energy.js";

const DAY = 86_400_000;
const D = Date.UTC(2026, 10, 22); // a UTC midnight
const T = D + 12 * 3_600_000;
const S = 1_000;
const MIN = 60_000;
const HOLD = 30 * S;
const reading = (measuredAtMs: number, seq: number, genW: number, conW: number): MeterState => ({ genW, conW, measuredAtMs, seq });
const wh = (energy: Energy | undefined) => energy && [energy.genWms, energy.conWms, energy.importWms, energy.exportWms].map((wms) => wms / WMS_PER_WH);
const dayOf = (days: DirtyDay[], dayStartMs: number) => days.find((day) => day.dayStartMs === dayStartMs);

describe("CommunityState energy", () => {
  it("gives exact Wh per minute for constant loads: 1.2 kW made by one meter, 0.6 kW used by another", () => {
    const state = new CommunityState("c1", HOLD);
    for (let s = 0; s <= 180; s += 15) {
      state.apply("pv", reading(T + s * S, s, 1200, 0));
      state.apply("home", reading(T + s * S, s, 0, 600));
    }
    const [day, ...more] = state.takeDirtyDays();
    expect(more).toEqual([]);
    expect(day).toMatchObject({ dayStartMs: D, merge: false });
    expect([...day!.minutes.keys()]).toEqual([T, T + MIN, T + 2 * MIN]);
    // gen, con, import, export in Wh: 1.2 kW for a minute is 20 Wh.
    for (const minute of day!.minutes.values()) expect(wh(minute)).toEqual([20, 10, 10, 20]);
  });

  it("adds nothing for a duplicate or an older reading", () => {
    const state = new CommunityState("c1", HOLD);
    state.apply("m1", reading(T, 1, 1000, 0));
    state.apply("m1", reading(T + 10 * S, 2, 1000, 0));
    expect(wh(state.takeDirtyDays()[0]!.minutes.get(T))).toEqual([1000 / 360, 0, 0, 1000 / 360]);
    expect(state.apply("m1", reading(T + 10 * S, 2, 1000, 0))).toBe(false);
    expect(state.apply("m1", reading(T + 5 * S, 3, 5000, 0))).toBe(false);
    expect(state.takeDirtyDays()).toEqual([]);
  });

  it("holds a reading's power at most the hold limit", () => {
    const state = new CommunityState("c1", HOLD);
    state.apply("m1", reading(T, 1, 0, 3600));
    state.apply("m1", reading(T + 10 * MIN, 2, 0, 3600));
    const minutes = state.takeDirtyDays()[0]!.minutes;
    expect([...minutes.keys()]).toEqual([T]);
    expect(wh(minutes.get(T))).toEqual([0, 30, 30, 0]);
  });

  it("splits days at UTC midnight", () => {
    const state = new CommunityState("c1", 2 * MIN);
    state.apply("m1", reading(D + DAY - 30 * S, 1, 0, 3600));
    state.apply("m1", reading(D + DAY + 30 * S, 2, 0, 3600));
    const days = state.takeDirtyDays();
    expect(days.map((day) => [day.dayStartMs, day.merge])).toEqual([
      [D, false],
      [D + DAY, false],
    ]);
    expect(wh(dayOf(days, D)!.minutes.get(D + DAY - MIN))).toEqual([0, 30, 30, 0]);
    expect(wh(dayOf(days, D + DAY)!.minutes.get(D + DAY))).toEqual([0, 30, 30, 0]);
  });

  it("continues a restored day, and hands energy of an older day over for merging with its record", () => {
    const state = new CommunityState("c1", HOLD);
    state.restore({ version: 3, meters: { m1: [0, 3600, T, 1], old: [0, 3600, D - 3 * DAY, 1] } });
    expect(state.heldDays()).toEqual([D - DAY, D]);
    state.restoreDay(D, new Map([[T, { genWms: 0, conWms: 5, importWms: 5, exportWms: 0 }]]));
    state.apply("m1", reading(T + 10 * S, 2, 0, 3600));
    state.apply("old", reading(D - 3 * DAY + 10 * S, 2, 0, 3600));
    const days = state.takeDirtyDays();
    expect(dayOf(days, D)).toMatchObject({ merge: false, minutes: new Map([[T, { genWms: 0, conWms: 36_000_005, importWms: 36_000_005, exportWms: 0 }]]) });
    expect(dayOf(days, D - 3 * DAY)).toMatchObject({ merge: true, minutes: new Map([[D - 3 * DAY, { genWms: 0, conWms: 36_000_000, importWms: 36_000_000, exportWms: 0 }]]) });

    // Not stored: both come back, a late day's energy added to what came meanwhile.
    state.apply("old", reading(D - 3 * DAY + 20 * S, 3, 0, 3600));
    state.putBackDays(days);
    const again = state.takeDirtyDays();
    expect(dayOf(again, D)!.minutes.get(T)!.conWms).toBe(36_000_005);
    expect(dayOf(again, D - 3 * DAY)!.minutes.get(D - 3 * DAY)!.conWms).toBe(72_000_000);
  });

  it("forgets a whole day once the newest reading is two days on, and takes later energy of it as late", () => {
    const state = new CommunityState("c1", HOLD);
    state.apply("m1", reading(T, 1, 0, 3600));
    state.apply("m1", reading(T + 10 * S, 2, 0, 3600));
    state.apply("m2", reading(T + 2 * DAY, 1, 0, 3600));
    expect(state.takeDirtyDays().map((day) => [day.dayStartMs, day.merge])).toEqual([[D, false]]);
    state.apply("m1", reading(T + 20 * S, 3, 0, 3600));
    expect(state.takeDirtyDays().map((day) => [day.dayStartMs, day.merge, day.minutes.get(T)!.conWms])).toEqual([[D, true, 36_000_000]]);
  });
});

import { describe, expect, it } from "vitest";
import { CommunityState, type MeterState } from "../../src/aggregator/community-state.js";
import { DayLedger, type DirtyDay, addSegment } from "../../src/aggregator/day-ledger.js";
import { type Energy, WMS_PER_WH } from "../../src/energy/meter-energy.js";

const DAY = 86_400_000;
const D = Date.UTC(2026, 10, 22); // a UTC midnight
const T = D + 12 * 3_600_000;
const S = 1_000;
const MIN = 60_000;
const FLOOR = 30 * S;
const reading = (measuredAtMs: number, seq: number, genW: number, conW: number): MeterState => ({ genW, conW, measuredAtMs, seq });
const wh = (energy: Energy | undefined) => energy && [energy.genWms, energy.conWms, energy.importWms, energy.exportWms].map((wms) => wms / WMS_PER_WH);
const dayOf = (days: DirtyDay[], dayStartMs: number) => days.find((day) => day.dayStartMs === dayStartMs);
/** Readings of one meter every `stepMs` from `fromMs` to `toMs` inclusive. */
function every(state: CommunityState, meterId: string, fromMs: number, toMs: number, stepMs: number, genW: number, conW: number): void {
  for (let at = fromMs; at <= toMs; at += stepMs) state.apply(meterId, reading(at, at, genW, conW));
}

describe("CommunityState energy", () => {
  it("gives exact Wh per minute for constant loads once final: 1.2 kW made by one meter, 0.6 kW used by another", () => {
    const state = new CommunityState("c1", FLOOR);
    // Every 15 s to 225 s, the meters' readings interleaved as they arrive: a reading is final a grace (3 × 15 s) after it, so the energy up to 180 s is.
    for (let at = T; at <= T + 225 * S; at += 15 * S) {
      state.apply("pv", reading(at, at, 1200, 0));
      state.apply("home", reading(at, at, 0, 600));
    }
    const [day, ...more] = state.takeDirtyDays();
    expect(more).toEqual([]);
    expect(day).toMatchObject({ dayStartMs: D, merge: false });
    expect([...day!.minutes.keys()]).toEqual([T, T + MIN, T + 2 * MIN]);
    // gen, con, import, export in Wh: 1.2 kW for a minute is 20 Wh.
    for (const minute of day!.minutes.values()) expect(wh(minute)).toEqual([20, 10, 10, 20]);
    expect(day!.cursors).toEqual(new Map([["pv", T + 180 * S], ["home", T + 180 * S]]));
    expect(state.finalToStore()).toBe(T + 180 * S);
  });

  it("adds nothing for a duplicate", () => {
    const state = new CommunityState("c1", FLOOR);
    every(state, "m1", T, T + 40 * S, 10 * S, 1000, 0);
    const before = state.takeDirtyDays();
    expect(state.apply("m1", reading(T + 40 * S, T + 40 * S, 1000, 0))).toBe("duplicate");
    expect(state.takeDirtyDays()).toEqual([]);
    expect(wh(before[0]!.minutes.get(T))).toEqual([1000 / 360, 0, 0, 1000 / 360]);
  });

  it("holds a reading's power at most its hold: a 10-second meter silent for 10 minutes counts 40 s of it", () => {
    const state = new CommunityState("c1", FLOOR);
    every(state, "m1", T - 50 * S, T, 10 * S, 0, 3600);
    every(state, "m1", T + 10 * MIN, T + 11 * MIN, 10 * S, 0, 3600);
    const minutes = state.takeDirtyDays()[0]!.minutes;
    // 10 s cadence + 30 s floor = 40 s after T; nothing from T + 40 s to T + 10 min.
    expect(wh(minutes.get(T))).toEqual([0, 40, 40, 0]);
    expect(minutes.get(T + MIN)).toBeUndefined();
  });

  it("splits days at UTC midnight", () => {
    const state = new CommunityState("c1", FLOOR);
    every(state, "m1", D + DAY - 30 * S, D + DAY + 120 * S, 30 * S, 0, 3600);
    const days = state.takeDirtyDays();
    expect(days.map((day) => [day.dayStartMs, day.merge])).toEqual([
      [D, false],
      [D + DAY, false],
    ]);
    expect(wh(dayOf(days, D)!.minutes.get(D + DAY - MIN))).toEqual([0, 30, 30, 0]);
    expect(wh(dayOf(days, D + DAY)!.minutes.get(D + DAY))).toEqual([0, 30, 30, 0]);
  });

  it("counts an interval once through a crash: a day stored ahead of the snapshot keeps redelivered readings from adding it again", () => {
    const state = new CommunityState("c1", FLOOR);
    every(state, "m1", T, T + 60 * S, 10 * S, 0, 3600);
    const snapshot = state.takeDirtyShards().shards[0]![1];
    // The day is stored next, then the aggregator dies before the next snapshot.
    every(state, "m1", T + 70 * S, T + 120 * S, 10 * S, 0, 3600);
    const storedDay = state.takeDirtyDays().find((day) => day.dayStartMs === D)!;
    const counted = storedDay.minutes.get(T)!.conWms + (storedDay.minutes.get(T + MIN)?.conWms ?? 0);

    const restarted = new CommunityState("c1", FLOOR);
    restarted.restore(JSON.parse(JSON.stringify(snapshot)));
    restarted.restoreDay(storedDay);
    // Every reading after the snapshot comes again (redelivered), and then the next ones.
    every(restarted, "m1", T + 70 * S, T + 180 * S, 10 * S, 0, 3600);
    const day = restarted.takeDirtyDays().find((d) => d.dayStartMs === D)!;
    expect(counted).toBe(3600 * 90 * S); // up to T + 90 s: final before the crash
    // Each 10 s interval once: 0…150 s final now (180 s − a grace of 30 s).
    expect(day.minutes.get(T)!.conWms + day.minutes.get(T + MIN)!.conWms + (day.minutes.get(T + 2 * MIN)?.conWms ?? 0)).toBe(3600 * 150 * S);
  });

  it("continues a restored day", () => {
    const state = new CommunityState("c1", FLOOR);
    state.restore({ version: 3, meters: { m1: [0, 3600, T, 1] } });
    expect(state.heldDays()).toEqual([D - DAY, D]);
    state.restoreDay({ dayStartMs: D, minutes: new Map([[T, { genWms: 0, conWms: 5, importWms: 5, exportWms: 0 }]]), cursors: new Map(), late: new Map() });
    every(state, "m1", T + 10 * S, T + 50 * S, 10 * S, 0, 3600);
    // From T (restored) to T + 20 s: final with data time at T + 50 s (a grace of 30 s).
    expect(dayOf(state.takeDirtyDays(), D)).toMatchObject({ merge: false, minutes: new Map([[T, { genWms: 0, conWms: 72_000_005, importWms: 72_000_005, exportWms: 0 }]]) });
  });

  it("a meter more than its hold and grace behind its community is closed, and its readings after that are late", () => {
    const state = new CommunityState("c1", FLOOR);
    every(state, "m1", T, T + 10 * MIN, 10 * S, 0, 3600);
    every(state, "behind", T - 10 * MIN, T - 9 * MIN, 10 * S, 0, 3600);
    // Its first readings are integrated (nothing came before them), then its hold is over by the community's data time,
    // and each reading before the end of that hold comes too late: 3 in its first minute, 1 in the next.
    expect(state.takeDirtyDays()[0]!.late).toEqual(new Map([[T - 10 * MIN, 3], [T - 9 * MIN, 1]]));
  });

  it("adds energy for a day older than those held against that day's stored cursors: a segment stored before a crash is not added twice", () => {
    const ledger = new DayLedger();
    ledger.holdDaysUpTo(D + 4 * DAY); // the community is 4 days on
    // A meter's daily value, settled now, for the day D.
    ledger.add("daily", D, D + DAY, { genW: 1_000, conW: 0, measuredAtMs: D + DAY });
    const [late] = ledger.take();
    expect(late).toMatchObject({ dayStartMs: D, merge: true });
    const stored = { dayStartMs: D, minutes: new Map<number, Energy>(), cursors: new Map<string, number>(), late: new Map<number, number>() };
    for (const segment of late!.segments) addSegment(stored, segment); // the first store
    for (const segment of late!.segments) addSegment(stored, segment); // the same again, integrated anew after a crash
    expect([...stored.minutes.values()].reduce((sum, e) => sum + e.genWms, 0)).toBe(1_000 * DAY);
    expect(stored.cursors.get("daily")).toBe(D + DAY);
  });

  it("takes a reading delivered again that is older than what its meter integrated as a duplicate, not late", () => {
    const state = new CommunityState("c1", FLOOR);
    every(state, "m1", T, T + 5 * MIN, 10 * S, 0, 3600);
    state.takeDirtyDays();
    expect(state.apply("m1", reading(T + 15 * S, T + 15 * S, 0, 3600), true)).toBe("duplicate");
    expect(state.takeDirtyDays()).toEqual([]);
  });

  it("counts a late averaged reading in the minute its interval starts: the quarter hour it stands for is the one not final", () => {
    const state = new CommunityState("c1", FLOOR);
    const quarter = 15 * MIN;
    for (let i = 1; i <= 8; i += 1) state.apply("gw", { genW: 0, conW: 400, measuredAtMs: T + i * quarter, seq: i, intervalMs: quarter, averaged: true });
    state.takeDirtyDays();
    // A value for 12:00–12:15 (stamped 12:15:00.001) comes after the community's data time passed its grace.
    expect(state.apply("gw", { genW: 0, conW: 999, measuredAtMs: T + quarter + 1, seq: 99, intervalMs: quarter, averaged: true })).toBe("late");
    // Counted in 12:00 (where its interval starts), not 12:15.
    expect(state.takeDirtyDays()[0]!.late).toEqual(new Map([[T, 1]]));
  });

  it("counts a reading beyond its meter's grace as late in its minute, and leaves the energy as it was", () => {
    const state = new CommunityState("c1", FLOOR);
    every(state, "m1", T, T + 5 * MIN, 10 * S, 0, 3600);
    const before = state.takeDirtyDays()[0]!;
    expect(state.apply("m1", reading(T + 15 * S, 1, 0, 99_999))).toBe("late");
    const [after] = state.takeDirtyDays();
    expect(after!.late).toEqual(new Map([[T, 1]]));
    expect(after!.minutes).toEqual(before.minutes);
  });
});

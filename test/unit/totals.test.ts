import { describe, expect, it } from "vitest";
import { type MeterState, computeTotals, isNewer } from "../../src/domain/totals.js";

const T = Date.UTC(2026, 10, 22, 12);
const state = (measuredAtMs: number, seq: number, genW = 0, conW = 0): MeterState => ({ genW, conW, measuredAtMs, seq });
/** Each meter's newest reading with the hold the rule gives it (energy/validity.ts): here 30 s for all. */
const live = (meter: MeterState) => ({ ...meter, holdMs: 30_000 });

describe("isNewer", () => {
  it("any reading beats no reading", () => {
    expect(isNewer(state(T, 1), undefined)).toBe(true);
  });

  it("a later measuredAt wins even with a lower seq", () => {
    expect(isNewer(state(T + 1, 1), state(T, 99))).toBe(true);
  });

  it("an earlier measuredAt loses even with a higher seq", () => {
    expect(isNewer(state(T - 1, 99), state(T, 1))).toBe(false);
  });

  it("with the same measuredAt a higher seq wins", () => {
    expect(isNewer(state(T, 2), state(T, 1))).toBe(true);
    expect(isNewer(state(T, 1), state(T, 2))).toBe(false);
  });

  it("a duplicate (same measuredAt and seq) changes nothing, even with other watts", () => {
    expect(isNewer(state(T, 1, 500, 0), state(T, 1, 100, 0))).toBe(false);
  });
});

describe("computeTotals", () => {
  it("sums the watts of fresh meters and reports the newest data time", () => {
    const totals = computeTotals([state(T, 1, 1000, 200), state(T - 5_000, 1, 300, 700)].map(live));
    expect(totals).toEqual({ genW: 1300, conW: 900, meters: 2, stale: 0, measuredAtMs: T });
  });

  it("leaves out a meter more than its hold behind the newest reading and counts it stale", () => {
    const totals = computeTotals([state(T, 1, 1000, 200), state(T - 30_001, 1, 300, 700)].map(live));
    expect(totals).toEqual({ genW: 1000, conW: 200, meters: 1, stale: 1, measuredAtMs: T });
  });

  it("keeps a meter exactly its hold behind", () => {
    const totals = computeTotals([state(T, 1, 1000, 200), state(T - 30_000, 1, 300, 700)].map(live));
    expect(totals).toEqual({ genW: 1300, conW: 900, meters: 2, stale: 0, measuredAtMs: T });
  });

  it("measures staleness in data time against the community's newest reading, not the wall clock", () => {
    const longAgo = Date.UTC(2020, 0, 1);
    const totals = computeTotals([state(longAgo, 1, 10, 0), state(longAgo - 1_000, 1, 20, 0)].map(live));
    expect(totals).toMatchObject({ genW: 30, meters: 2, stale: 0 });
  });

  it("holds each meter for its own hold: a 15-minute meter 10 minutes behind still counts, a 1-second one 40 s behind does not", () => {
    const totals = computeTotals([
      { ...state(T, 1, 1000, 0), holdMs: 31_000 },
      { ...state(T - 10 * 60_000, 1, 300, 0), holdMs: 22.5 * 60_000 },
      { ...state(T - 40_000, 1, 70, 0), holdMs: 31_000 },
    ]);
    expect(totals).toEqual({ genW: 1300, conW: 0, meters: 2, stale: 1, measuredAtMs: T });
  });

  it("gives zeros for a community without meters", () => {
    expect(computeTotals([].map(live))).toEqual({ genW: 0, conW: 0, meters: 0, stale: 0, measuredAtMs: 0 });
  });

  it("accepts any iterable, e.g. a Map's values", () => {
    const meters = new Map([
      ["a", state(T, 1, 1, 2)],
      ["b", state(T, 1, 3, 4)],
    ]);
    expect(computeTotals([...meters.values()].map(live))).toMatchObject({ genW: 4, conW: 6, meters: 2 });
  });
});

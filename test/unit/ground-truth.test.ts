import { describe, expect, it } from "vitest";
import { GroundTruth } from "../../src/sim/ground-truth.js";

const T = Date.UTC(2026, 11, 1, 12);
const reading = (measuredAtMs: number, genW: number, conW: number, seq = measuredAtMs) => ({ genW, conW, measuredAtMs, seq });

describe("GroundTruth", () => {
  it("sums the newest reading of every meter per community", () => {
    const truth = new GroundTruth(30_000);
    truth.record("c1", "m1", reading(T, 100, 10));
    truth.record("c1", "m1", reading(T + 1_000, 200, 20));
    truth.record("c1", "m2", reading(T + 1_000, 50, 5));
    truth.record("c2", "m1", reading(T, 7, 3));
    expect(truth.totals()).toEqual({
      c1: { genW: 250, conW: 25, meters: 2, stale: 0 },
      c2: { genW: 7, conW: 3, meters: 1, stale: 0 },
    });
  });

  it("an older reading acknowledged later does not replace a newer one", () => {
    const truth = new GroundTruth(30_000);
    truth.record("c1", "m1", reading(T + 1_000, 200, 20));
    truth.record("c1", "m1", reading(T, 100, 10));
    expect(truth.totals().c1).toEqual({ genW: 200, conW: 20, meters: 1, stale: 0 });
  });

  it("a duplicate reading does not change the totals", () => {
    const truth = new GroundTruth(30_000);
    truth.record("c1", "m1", reading(T, 100, 10));
    truth.record("c1", "m1", reading(T, 999, 999));
    expect(truth.totals().c1).toMatchObject({ genW: 100, conW: 10 });
  });

  it("applies the aggregator's rule: a 1-second meter holds 31 s (its cadence plus the 30 s floor), exactly that is not stale, a millisecond more is", () => {
    const truth = new GroundTruth(30_000);
    for (const [meterId, lastMs, genW] of [
      ["fresh", T, 100],
      ["edge", T - 31_000, 10],
      ["old", T - 31_001, 1],
    ] as const) {
      truth.record("c1", meterId, reading(lastMs - 1_000, genW, 0));
      truth.record("c1", meterId, reading(lastMs, genW, 0));
    }
    expect(truth.totals().c1).toEqual({ genW: 110, conW: 0, meters: 2, stale: 1 });
  });

  it("counts a 15-minute meter between its readings, where a fixed 30 s would have left it out", () => {
    const truth = new GroundTruth(30_000);
    for (let i = 0; i < 4; i += 1) truth.record("c1", "gateway", reading(T + i * 900_000, 500, 0));
    truth.record("c1", "plug", reading(T + 3 * 900_000 + 600_000, 20, 0));
    expect(truth.totals().c1).toEqual({ genW: 520, conW: 0, meters: 2, stale: 0 });
  });

  it("lists communities sorted by id", () => {
    const truth = new GroundTruth(30_000);
    for (const id of ["community10", "community2", "community1"]) truth.record(id, "m1", reading(T, 1, 1));
    expect(Object.keys(truth.totals())).toEqual(["community1", "community10", "community2"]);
  });

  it("is empty before anything was recorded", () => {
    expect(new GroundTruth(30_000).totals()).toEqual({});
  });
});

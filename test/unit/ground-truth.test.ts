import { describe, expect, it } from "vitest";
import { GroundTruth } from "../../src/sim/ground-truth.js";

const T = Date.UTC(2026, 11, 1, 12);
const reading = (measuredAtMs: number, genW: number, conW: number, seq = measuredAtMs) => ({ genW, conW, measuredAtMs, seq });

describe("GroundTruth", () => {
  it("sums the newest reading of every meter per community", () => {
    const truth = new GroundTruth();
    truth.record("c1", "m1", reading(T, 100, 10));
    truth.record("c1", "m1", reading(T + 1_000, 200, 20));
    truth.record("c1", "m2", reading(T + 1_000, 50, 5));
    truth.record("c2", "m1", reading(T, 7, 3));
    expect(truth.totals(30_000)).toEqual({
      c1: { genW: 250, conW: 25, meters: 2, stale: 0 },
      c2: { genW: 7, conW: 3, meters: 1, stale: 0 },
    });
  });

  it("an older reading acknowledged later does not replace a newer one", () => {
    const truth = new GroundTruth();
    truth.record("c1", "m1", reading(T + 1_000, 200, 20));
    truth.record("c1", "m1", reading(T, 100, 10));
    expect(truth.totals(30_000).c1).toEqual({ genW: 200, conW: 20, meters: 1, stale: 0 });
  });

  it("a duplicate reading does not change the totals", () => {
    const truth = new GroundTruth();
    truth.record("c1", "m1", reading(T, 100, 10));
    truth.record("c1", "m1", reading(T, 999, 999));
    expect(truth.totals(30_000).c1).toMatchObject({ genW: 100, conW: 10 });
  });

  it("applies the aggregator's stale rule: more than staleAfterMs behind is stale, exactly staleAfterMs is not", () => {
    const truth = new GroundTruth();
    truth.record("c1", "fresh", reading(T, 100, 0));
    truth.record("c1", "edge", reading(T - 30_000, 10, 0));
    truth.record("c1", "old", reading(T - 30_001, 1, 0));
    expect(truth.totals(30_000).c1).toEqual({ genW: 110, conW: 0, meters: 2, stale: 1 });
  });

  it("lists communities sorted by id", () => {
    const truth = new GroundTruth();
    for (const id of ["community10", "community2", "community1"]) truth.record(id, "m1", reading(T, 1, 1));
    expect(Object.keys(truth.totals(30_000))).toEqual(["community1", "community10", "community2"]);
  });

  it("is empty before anything was recorded", () => {
    expect(new GroundTruth().totals(30_000)).toEqual({});
  });
});

import { describe, expect, it } from "vitest";
import { CommunityState, type MeterState } from "../../src/aggregator/community-state.js";

const T = Date.UTC(2026, 10, 22, 12);
const NOW = new Date("2026-11-22T12:00:01.500Z");
const STALE = 30_000;
const reading = (measuredAtMs: number, seq: number, genW: number, conW: number): MeterState => ({ genW, conW, measuredAtMs, seq });

describe("CommunityState.apply", () => {
  it("accepts the first reading of a meter", () => {
    expect(new CommunityState("c1").apply("m1", reading(T, 1, 100, 50))).toBe(true);
  });

  it("a duplicate reading changes nothing", () => {
    const state = new CommunityState("c1");
    state.apply("m1", reading(T, 1, 100, 50));
    expect(state.apply("m1", reading(T, 1, 100, 50))).toBe(false);
  });

  it("an older reading does not replace a newer one", () => {
    const state = new CommunityState("c1");
    state.apply("m1", reading(T, 2, 100, 50));
    expect(state.apply("m1", reading(T - 1_000, 3, 999, 999))).toBe(false);
    expect(state.nextAggregate(STALE, NOW)).toMatchObject({ genW: 100, conW: 50 });
  });

  it("keeps meters apart: the same seq on another meter is a new reading", () => {
    const state = new CommunityState("c1");
    state.apply("m1", reading(T, 1, 100, 0));
    expect(state.apply("m2", reading(T, 1, 200, 0))).toBe(true);
    expect(state.nextAggregate(STALE, NOW)).toMatchObject({ genW: 300, meters: 2 });
  });
});

describe("CommunityState.nextAggregate", () => {
  it("builds the aggregate from the winning readings with version 1 first", () => {
    const state = new CommunityState("c1");
    state.apply("m1", reading(T, 1, 1000, 200));
    state.apply("m2", reading(T - 2_000, 1, 0, 3000));
    expect(state.nextAggregate(STALE, NOW)).toEqual({
      communityId: "c1",
      genW: 1000,
      conW: 3200,
      netW: -2200,
      meters: 2,
      stale: 0,
      measuredAt: "2026-11-22T12:00:00.000Z",
      aggregatedAt: "2026-11-22T12:00:01.500Z",
      version: 1,
    });
  });

  it("a duplicate reading does not change the totals or the version", () => {
    const state = new CommunityState("c1");
    state.apply("m1", reading(T, 1, 1000, 200));
    expect(state.nextAggregate(STALE, NOW)?.version).toBe(1);
    state.apply("m1", reading(T, 1, 1000, 200));
    expect(state.nextAggregate(STALE, NOW)).toBeUndefined();
  });

  it("a newer reading with the same watts and time but higher seq emits nothing", () => {
    const state = new CommunityState("c1");
    state.apply("m1", reading(T, 1, 1000, 200));
    state.nextAggregate(STALE, NOW);
    expect(state.apply("m1", reading(T, 2, 1000, 200))).toBe(true);
    expect(state.nextAggregate(STALE, NOW)).toBeUndefined();
  });

  it("increments the version by one for each change of the totals", () => {
    const state = new CommunityState("c1");
    state.apply("m1", reading(T, 1, 1000, 200));
    expect(state.nextAggregate(STALE, NOW)?.version).toBe(1);
    state.apply("m1", reading(T + 1_000, 2, 1100, 200));
    expect(state.nextAggregate(STALE, NOW)).toMatchObject({ version: 2, genW: 1100 });
    expect(state.nextAggregate(STALE, NOW)).toBeUndefined();
    state.apply("m1", reading(T + 2_000, 3, 1200, 200));
    expect(state.nextAggregate(STALE, NOW)).toMatchObject({ version: 3, genW: 1200 });
  });

  it("a newer timestamp with the same watts is a change: measuredAt moves on", () => {
    const state = new CommunityState("c1");
    state.apply("m1", reading(T, 1, 1000, 200));
    state.nextAggregate(STALE, NOW);
    state.apply("m1", reading(T + 1_000, 2, 1000, 200));
    expect(state.nextAggregate(STALE, NOW)).toMatchObject({ version: 2, measuredAt: "2026-11-22T12:00:01.000Z" });
  });

  it("a meter that falls behind by more than staleAfterMs leaves the totals and is counted stale", () => {
    const state = new CommunityState("c1");
    state.apply("m1", reading(T, 1, 1000, 0));
    state.apply("m2", reading(T, 1, 500, 0));
    expect(state.nextAggregate(STALE, NOW)).toMatchObject({ genW: 1500, meters: 2, stale: 0, version: 1 });
    state.apply("m1", reading(T + 30_001, 2, 1000, 0));
    expect(state.nextAggregate(STALE, NOW)).toMatchObject({ genW: 1000, meters: 1, stale: 1, version: 2 });
  });

  it("forgetLastAggregate makes the next call emit the same totals with a new version", () => {
    const state = new CommunityState("c1");
    state.apply("m1", reading(T, 1, 1000, 200));
    const first = state.nextAggregate(STALE, NOW);
    state.forgetLastAggregate();
    const again = state.nextAggregate(STALE, NOW);
    expect(again).toEqual({ ...first, version: 2 });
    expect(state.nextAggregate(STALE, NOW)).toBeUndefined();
  });
});

describe("CommunityState snapshots", () => {
  it("records the version and every meter's winning reading", () => {
    const state = new CommunityState("c1");
    state.apply("m1", reading(T, 7, 1000, 200));
    state.apply("m2", reading(T - 1_000, 3, 0, 800));
    state.nextAggregate(STALE, NOW);
    expect(state.snapshot()).toEqual({
      version: 1,
      meters: { m1: [1000, 200, T, 7], m2: [0, 800, T - 1_000, 3] },
    });
  });

  it("a snapshot survives JSON and restores the state and version", () => {
    const state = new CommunityState("c1");
    state.apply("m1", reading(T, 7, 1000, 200));
    state.apply("m2", reading(T - 1_000, 3, 0, 800));
    const before = state.nextAggregate(STALE, NOW);
    state.apply("m1", reading(T + 1_000, 8, 1100, 200));
    state.nextAggregate(STALE, NOW);

    const restored = new CommunityState("c1", JSON.parse(JSON.stringify(state.snapshot())));
    expect(restored.snapshot()).toEqual(state.snapshot());
    // The restored state keeps counting from the saved version: versions never go back.
    const after = restored.nextAggregate(STALE, NOW);
    expect(after).toMatchObject({ version: 3, genW: 1100, conW: 1000, meters: 2 });
    expect(before?.version).toBe(1);
  });

  it("a restored state treats readings it already has as duplicates", () => {
    const state = new CommunityState("c1");
    state.apply("m1", reading(T, 7, 1000, 200));
    const restored = new CommunityState("c1", state.snapshot());
    expect(restored.apply("m1", reading(T, 7, 1000, 200))).toBe(false);
    expect(restored.apply("m1", reading(T - 1, 9, 1000, 200))).toBe(false);
    expect(restored.apply("m1", reading(T, 8, 1000, 200))).toBe(true);
  });
});

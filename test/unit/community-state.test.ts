import { describe, expect, it } from "vitest";
import { CommunityState, type MeterState } from "../../src/aggregator/community-state.js";
import type { IntegratorState } from "../../src/energy/meter-integrator.js";
import {
  type CommunitySnapshot,
  MAX_DELTAS,
  METERS_PER_SHARD,
  communityOfShardKey,
  deltaKey,
  deltaNumber,
  shardCountFor,
} from "../../src/aggregator/snapshot-shards.js";

const T = Date.UTC(2026, 10, 22, 12);
const NOW = new Date("2026-11-22T12:00:01.500Z");
const STALE = 30_000;
/** The epoch of a state created at 2026-11-22T12:00Z. */
const EPOCH = T;
const reading = (measuredAtMs: number, seq: number, genW: number, conW: number): MeterState => ({ genW, conW, measuredAtMs, seq });

describe("CommunityState.apply", () => {
  it("accepts the first reading of a meter", () => {
    expect(new CommunityState("c1", STALE).apply("m1", reading(T, 1, 100, 50))).toBe("pending");
  });

  it("a duplicate reading changes nothing", () => {
    const state = new CommunityState("c1", STALE);
    state.apply("m1", reading(T, 1, 100, 50));
    expect(state.apply("m1", reading(T, 1, 100, 50))).toBe("duplicate");
  });

  it("an older reading does not replace a newer one", () => {
    const state = new CommunityState("c1", STALE);
    state.apply("m1", reading(T, 2, 100, 50));
    // Older than the meter's newest, but within its grace: it waits in its place for the energy; the live value stays.
    expect(state.apply("m1", reading(T - 1_000, 3, 999, 999))).toBe("pending");
    expect(state.nextAggregate(NOW)).toMatchObject({ genW: 100, conW: 50 });
  });

  it("keeps meters apart: the same seq on another meter is a new reading", () => {
    const state = new CommunityState("c1", STALE);
    state.apply("m1", reading(T, 1, 100, 0));
    expect(state.apply("m2", reading(T, 1, 200, 0))).toBe("pending");
    expect(state.nextAggregate(NOW)).toMatchObject({ genW: 300, meters: 2 });
  });
});

describe("CommunityState.nextAggregate", () => {
  it("builds the aggregate from the winning readings with version 1 first", () => {
    const state = new CommunityState("c1", STALE);
    state.apply("m1", reading(T, 1, 1000, 200));
    state.apply("m2", reading(T - 2_000, 1, 0, 3000));
    expect(state.nextAggregate(NOW)).toEqual({
      communityId: "c1",
      genW: 1000,
      conW: 3200,
      netW: -2200,
      meters: 2,
      stale: 0,
      measuredAt: "2026-11-22T12:00:00.000Z",
      aggregatedAt: "2026-11-22T12:00:01.500Z",
      version: 1,
      epoch: 0,
    });
  });

  it("a duplicate reading does not change the totals or the version", () => {
    const state = new CommunityState("c1", STALE);
    state.apply("m1", reading(T, 1, 1000, 200));
    expect(state.nextAggregate(NOW)?.version).toBe(1);
    state.apply("m1", reading(T, 1, 1000, 200));
    expect(state.nextAggregate(NOW)).toBeUndefined();
  });

  it("a newer reading with the same watts and time but higher seq emits nothing", () => {
    const state = new CommunityState("c1", STALE);
    state.apply("m1", reading(T, 1, 1000, 200));
    state.nextAggregate(NOW);
    expect(state.apply("m1", reading(T, 2, 1000, 200))).toBe("pending");
    expect(state.nextAggregate(NOW)).toBeUndefined();
  });

  it("increments the version by one for each change of the totals", () => {
    const state = new CommunityState("c1", STALE);
    state.apply("m1", reading(T, 1, 1000, 200));
    expect(state.nextAggregate(NOW)?.version).toBe(1);
    state.apply("m1", reading(T + 1_000, 2, 1100, 200));
    expect(state.nextAggregate(NOW)).toMatchObject({ version: 2, genW: 1100 });
    expect(state.nextAggregate(NOW)).toBeUndefined();
    state.apply("m1", reading(T + 2_000, 3, 1200, 200));
    expect(state.nextAggregate(NOW)).toMatchObject({ version: 3, genW: 1200 });
  });

  it("a newer timestamp with the same watts is a change: measuredAt moves on", () => {
    const state = new CommunityState("c1", STALE);
    state.apply("m1", reading(T, 1, 1000, 200));
    state.nextAggregate(NOW);
    state.apply("m1", reading(T + 1_000, 2, 1000, 200));
    expect(state.nextAggregate(NOW)).toMatchObject({ version: 2, measuredAt: "2026-11-22T12:00:01.000Z" });
  });

  it("a meter that falls behind by more than its hold (its 1 s cadence plus the 30 s floor) leaves the totals and is counted stale", () => {
    const state = new CommunityState("c1", STALE);
    for (const meterId of ["m1", "m2"]) state.apply(meterId, reading(T - 1_000, 0, meterId === "m1" ? 1000 : 500, 0));
    state.apply("m1", reading(T, 1, 1000, 0));
    state.apply("m2", reading(T, 1, 500, 0));
    expect(state.nextAggregate(NOW)).toMatchObject({ genW: 1500, meters: 2, stale: 0, version: 1 });
    state.apply("m1", reading(T + 31_000, 2, 1000, 0));
    expect(state.nextAggregate(NOW)).toMatchObject({ genW: 1500, meters: 2, stale: 0 }); // exactly its hold: still counted
    state.apply("m1", reading(T + 31_001, 3, 1000, 0));
    expect(state.nextAggregate(NOW)).toMatchObject({ genW: 1000, meters: 1, stale: 1, version: 3 });
  });

  it("after putBack the next call emits the same totals with a new version", () => {
    const state = new CommunityState("c1", STALE);
    state.apply("m1", reading(T, 1, 1000, 200));
    const first = state.nextAggregate(NOW);
    const { taken } = state.takeDirtyShards();
    state.putBack(taken);
    const again = state.nextAggregate(NOW);
    expect(again).toEqual({ ...first, version: 2 });
    expect(state.nextAggregate(NOW)).toBeUndefined();
    expect(state.takeDirtyShards().shards).toHaveLength(1);
  });
});

/** A state rebuilt from the shards another one stored, as a restarted aggregator does. */
function restoredFrom(state: CommunityState): CommunityState {
  const restored = new CommunityState("c1", STALE);
  for (const [, snapshot] of state.takeDirtyShards().shards) restored.restore(JSON.parse(JSON.stringify(snapshot)) as CommunitySnapshot);
  return restored;
}

describe("CommunityState snapshots", () => {
  it("records the epoch, the version and every meter's winning reading, under the community's id", () => {
    const state = new CommunityState("c1", STALE, EPOCH);
    state.apply("m1", reading(T, 7, 1000, 200));
    state.apply("m2", reading(T - 1_000, 3, 0, 800));
    state.nextAggregate(NOW);
    // Each meter's integrator: a single reading waits (pending) until its grace has passed.
    expect(state.takeDirtyShards().shards).toEqual([
      ["c1", { epoch: EPOCH, version: 1, meters: { m1: { gaps: [], pending: [[1000, 200, T, 7, 0, 0]] }, m2: { gaps: [], pending: [[0, 800, T - 1_000, 3, 0, 0]] } } }],
    ]);
  });

  it("hands out a shard only when one of its meters changed", () => {
    const state = new CommunityState("c1", STALE);
    state.apply("m1", reading(T, 7, 1000, 200));
    expect(state.takeDirtyShards().shards).toHaveLength(1);
    expect(state.takeDirtyShards().shards).toHaveLength(0);
    state.apply("m1", reading(T, 7, 1000, 200)); // a duplicate
    expect(state.takeDirtyShards().shards).toHaveLength(0);
  });

  it("splits a large community into shards of at most METERS_PER_SHARD meters, and then stores only the changed meters, as a delta", () => {
    const state = new CommunityState("big", STALE);
    const meters = METERS_PER_SHARD * 3;
    for (let i = 0; i < meters; i += 1) state.apply(`m${i}`, reading(T, 1, i, 0));
    const { shards } = state.takeDirtyShards();
    expect(shards.map(([key]) => key).sort()).toEqual(["big.0", "big.1", "big.2", "big.3"]);
    expect(shards.reduce((sum, [, s]) => sum + Object.keys(s.meters).length, 0)).toBe(meters);
    for (const [, snapshot] of shards) expect(Object.keys(snapshot.meters).length).toBeLessThanOrEqual(METERS_PER_SHARD);
    state.apply("m5", reading(T + 1, 2, 5, 0));
    state.stored(shards.map(([key]) => key), []);
    const again = state.takeDirtyShards();
    expect(again.shards).toEqual([["big.d0", { epoch: 0, version: 0, meters: { m5: { gaps: [], pending: [[5, 0, T, 1, 0, 0], [5, 0, T + 1, 2, 0, 0]] } } }]]);
    expect(again.obsolete).toEqual([]);
    expect(shards.map(([key]) => communityOfShardKey(key))).toEqual(["big", "big", "big", "big"]);
    expect(communityOfShardKey("big.d0")).toBe("big");
  });

  it("names delta keys apart from shard keys", () => {
    expect([deltaKey("c1", 0), deltaKey("c1", 17)].map(deltaNumber)).toEqual([0, 17]);
    expect(["c1", "c1.0", "c1.3", "c1.d", "c1.dx", "c1.d1.2"].map(deltaNumber)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  /** A community of `meters` meters (several shards), all stored; `kv` gets what was stored, as JSON gives it back. */
  function storedBig(meters = METERS_PER_SHARD * 2, kv = new Map<string, CommunitySnapshot>()): CommunityState {
    const state = new CommunityState("big", STALE);
    for (let i = 0; i < meters; i += 1) state.apply(`m${i}`, reading(T, 1, i, 0));
    const { shards } = state.takeDirtyShards();
    for (const [key, snapshot] of shards) kv.set(key, JSON.parse(JSON.stringify(snapshot)) as CommunitySnapshot);
    state.stored(
      shards.map(([key]) => key),
      [],
    );
    return state;
  }

  it("rewrites every shard and deletes the deltas once they would hold more meters than the community", () => {
    const meters = METERS_PER_SHARD * 2;
    const state = storedBig(meters);
    const perDelta = Math.floor(meters / 4);
    const deltas: string[] = [];
    for (let round = 0; round < 4; round += 1) {
      for (let i = 0; i < perDelta; i += 1) state.apply(`m${i}`, reading(T + round + 1, round + 2, round, 0));
      const { shards, obsolete } = state.takeDirtyShards();
      expect(obsolete).toEqual([]);
      expect(shards.map(([key]) => key)).toEqual([deltaKey("big", round)]);
      expect(Object.keys(shards[0]![1].meters)).toHaveLength(perDelta);
      state.stored([shards[0]![0]], []);
      deltas.push(shards[0]![0]);
    }
    state.apply("m1", reading(T + 10, 20, 7, 0));
    const compaction = state.takeDirtyShards();
    expect(compaction.shards.map(([key]) => key).sort()).toEqual(["big.0", "big.1"]);
    expect(compaction.shards.reduce((sum, [, shard]) => sum + Object.keys(shard.meters).length, 0)).toBe(meters);
    expect(compaction.obsolete.sort()).toEqual(deltas.sort());
    state.stored(
      compaction.shards.map(([key]) => key),
      compaction.obsolete,
    );
    // Deltas again, numbered on.
    state.apply("m2", reading(T + 10, 20, 7, 0));
    expect(state.takeDirtyShards().shards.map(([key]) => key)).toEqual([deltaKey("big", 4)]);
  });

  it("keeps at most MAX_DELTAS deltas", () => {
    const state = storedBig(METERS_PER_SHARD * 64);
    for (let round = 0; round < MAX_DELTAS; round += 1) {
      state.apply("m1", reading(T + round + 1, round + 2, round, 0));
      const { shards } = state.takeDirtyShards();
      expect(shards.map(([key]) => key)).toEqual([deltaKey("big", round)]);
      state.stored([shards[0]![0]], []);
    }
    state.apply("m1", reading(T + 1_000, 1_000, 1, 0));
    const { shards, obsolete } = state.takeDirtyShards();
    expect(shards).toHaveLength(64);
    expect(obsolete).toHaveLength(MAX_DELTAS);
  });

  it("a restart merges shards and deltas, newest meter state winning, and numbers its deltas after those it found", () => {
    const stored = new Map<string, CommunitySnapshot>();
    const state = storedBig(METERS_PER_SHARD * 2, stored);
    state.apply("m3", reading(T + 5, 9, 333, 0));
    const delta = state.takeDirtyShards().shards;
    for (const [key, snapshot] of delta) stored.set(key, JSON.parse(JSON.stringify(snapshot)) as CommunitySnapshot);
    // A delta found first, the older shard after: the delta's state of m3 stays.
    const restored = new CommunityState("big", STALE);
    for (const [key, snapshot] of [...stored].reverse()) restored.restore(snapshot, key);
    expect(restored.nextAggregate(NOW)).toMatchObject({ genW: state.nextAggregate(NOW)!.genW, meters: METERS_PER_SHARD * 2 });
    expect(restored.apply("m3", reading(T + 5, 9, 333, 0))).toBe("duplicate");
    // Its first write rewrites every shard (what it found may be a layout half written) and
    // deletes the deltas; then deltas again, numbered after those it found.
    restored.apply("m4", reading(T + 6, 9, 1, 0));
    const first = restored.takeDirtyShards();
    expect(first.shards.map(([key]) => key).sort()).toEqual(["big.0", "big.1"]);
    expect(first.obsolete).toEqual([deltaKey("big", 0)]);
    restored.stored(
      first.shards.map(([key]) => key),
      first.obsolete,
    );
    restored.apply("m4", reading(T + 7, 10, 1, 0));
    expect(restored.takeDirtyShards().shards.map(([key]) => key)).toEqual([deltaKey("big", 1)]);
  });

  it("a delta whose write failed is deleted with the others, in case it landed", () => {
    const state = storedBig();
    state.apply("m1", reading(T + 1, 2, 1, 0));
    const failed = state.takeDirtyShards();
    expect(failed.shards.map(([key]) => key)).toEqual([deltaKey("big", 0)]);
    state.putBack(failed.taken);
    // After a failure the next write rewrites every shard, and the delta goes.
    const retried = state.takeDirtyShards();
    expect(retried.shards.map(([key]) => key).sort()).toEqual(["big.0", "big.1"]);
    expect(retried.obsolete).toEqual([deltaKey("big", 0)]);
  });

  it("a community that grows from 2 to 4 shards by one meter rewrites all 4: no meter is left only in a shard of the old layout", () => {
    const state = storedBig(METERS_PER_SHARD * 2);
    for (let i = METERS_PER_SHARD * 2; i < METERS_PER_SHARD * 2 + 1; i += 1) state.apply(`m${i}`, reading(T, 1, i, 0));
    const grown = state.takeDirtyShards();
    expect(grown.shards.map(([key]) => key).sort()).toEqual(["big.0", "big.1", "big.2", "big.3"]);
    expect(grown.shards.reduce((sum, [, shard]) => sum + Object.keys(shard.meters).length, 0)).toBe(METERS_PER_SHARD * 2 + 1);
    // big.0 and big.1 are keys of both layouts: nothing to delete.
    expect(grown.obsolete).toEqual([]);
  });

  it("when a community outgrows its layout, hands out every shard and names the old keys to delete", () => {
    const state = new CommunityState("c1", STALE);
    for (let i = 0; i < METERS_PER_SHARD; i += 1) state.apply(`m${i}`, reading(T, 1, 1, 0));
    const single = state.takeDirtyShards();
    expect(single.shards.map(([key]) => key)).toEqual(["c1"]);
    state.stored(["c1"], []);
    state.apply("one-more", reading(T, 1, 1, 0));
    const grown = state.takeDirtyShards();
    expect(grown.shards.map(([key]) => key).sort()).toEqual(["c1.0", "c1.1"]);
    expect(grown.obsolete).toEqual(["c1"]);
    state.stored(["c1.0", "c1.1"], grown.obsolete);
    state.apply("one-more", reading(T + 1, 2, 1, 0));
    const next = state.takeDirtyShards();
    expect(next.obsolete).toEqual([]);
    expect(next.shards).toHaveLength(1);
  });

  it("shardCountFor doubles as a community outgrows its shards", () => {
    expect([1, METERS_PER_SHARD, METERS_PER_SHARD + 1, 4 * METERS_PER_SHARD + 1].map(shardCountFor)).toEqual([1, 1, 2, 8]);
  });

  it("restored shards give back the state and the version", () => {
    const state = new CommunityState("c1", STALE);
    state.apply("m1", reading(T, 7, 1000, 200));
    state.apply("m2", reading(T - 1_000, 3, 0, 800));
    const before = state.nextAggregate(NOW);
    state.apply("m1", reading(T + 1_000, 8, 1100, 200));
    state.nextAggregate(NOW);

    const restored = restoredFrom(state);
    // The restored state keeps counting from the saved version: versions never go back.
    const after = restored.nextAggregate(NOW);
    expect(after).toMatchObject({ version: 3, genW: 1100, conW: 1000, meters: 2 });
    expect(before?.version).toBe(1);
  });

  it("an older shard restored after a newer one changes nothing", () => {
    const state = new CommunityState("c1", STALE);
    state.restore({ version: 4, meters: { m1: [500, 0, T + 1, 2] } });
    state.restore({ version: 2, meters: { m1: [100, 0, T, 1] } });
    expect(state.nextAggregate(NOW)).toMatchObject({ genW: 500, version: 5 });
  });

  it("of two stored states of a meter with the same newest reading, takes the one further on, in either order", () => {
    // A shard written while the reading at T + 1 s waited, and a delta written after it settled.
    const waiting: IntegratorState = { gaps: [], pending: [[100, 0, T, 1, 0, 0], [100, 0, T + 1_000, 2, 0, 0]] };
    const settled: IntegratorState = { anchor: [100, 0, T + 1_000, 2, 0, 0], cursorMs: T + 1_000, gaps: [1_000], pending: [] };
    for (const order of [
      [waiting, settled],
      [settled, waiting],
    ]) {
      const state = new CommunityState("c1", STALE);
      order.forEach((meter, i) => state.restore({ version: 1, meters: { m1: meter } }, i ? "c1.d0" : "c1"));
      // The first write after a restart rewrites every shard: it holds the state that won.
      expect(state.takeDirtyShards().shards[0]![1].meters.m1).toEqual(settled);
    }
  });

  it("continueFrom keeps versions above an aggregate stored after the snapshot", () => {
    const state = new CommunityState("c1", STALE);
    state.restore({ epoch: EPOCH, version: 4, meters: { m1: [500, 0, T, 2] } });
    state.continueFrom({ epoch: EPOCH, version: 9 });
    state.continueFrom({ epoch: EPOCH, version: 3 });
    expect(state.nextAggregate(NOW)).toMatchObject({ epoch: EPOCH, version: 10 });
  });

  it("a state created from nothing has the epoch it is given, and keeps it through its snapshot (a restart or handover)", () => {
    const state = new CommunityState("c1", STALE, EPOCH);
    state.apply("m1", reading(T, 1, 1000, 200));
    expect(state.nextAggregate(NOW)).toMatchObject({ epoch: EPOCH, version: 1 });
    const restored = restoredFrom(state);
    restored.apply("m1", reading(T + 1_000, 2, 900, 200));
    expect(restored.nextAggregate(NOW)).toMatchObject({ epoch: EPOCH, version: 2 });
  });

  it("a snapshot stored before epochs restores as epoch 0, so old and new values of the community compare right", () => {
    const state = new CommunityState("c1", STALE);
    state.restore({ version: 4, meters: { m1: [500, 0, T, 2] } });
    expect(state.nextAggregate(NOW)).toMatchObject({ epoch: 0, version: 5 });
  });

  it("a restored state treats readings it already has as duplicates", () => {
    const state = new CommunityState("c1", STALE);
    state.apply("m1", reading(T, 7, 1000, 200));
    const restored = restoredFrom(state);
    expect(restored.apply("m1", reading(T, 7, 1000, 200))).toBe("duplicate");
    expect(restored.apply("m1", reading(T, 8, 1000, 200))).toBe("pending");
  });
});

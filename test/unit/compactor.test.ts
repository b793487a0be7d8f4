import { describe, expect, it } from "vitest";
import { Compactor, DEFAULT_COMPACT_EVERY_MS, type CompactorOptions } from "../../src/archive/compactor.js";
import { partitionOf } from "../../src/wire/names.js";
import { FakeDayStore } from "../helpers/archive-fakes.js";
import { FakeClock } from "../helpers/fake-clock.js";

const HOUR = 3_600_000;
const C = "c1";
const P = partitionOf(C);
const DATE = "2026-06-21";
const FOLDER = `community_id=${C}/date=${DATE}`;
/** The energy file of the day compacted with tag day1, alone (no neighbours). */
const ENERGY = `energy_15m/${FOLDER}/none~p${P}-000000000001-000000000007-day1~none.parquet`;
const seg = (first: number, last: number, tag: string): string => `p${P}-${String(first).padStart(12, "0")}-${String(last).padStart(12, "0")}-${tag}.parquet`;

/** Three segments of a finished day; the second and third overlap in one stream sequence (a pass that crashed after its rename is like that). */
function storeWithDay(): FakeDayStore {
  const store = new FakeDayStore();
  store.put(C, DATE, seg(1, 3, "a"), [1, 2, 3]);
  store.put(C, DATE, seg(4, 6, "b"), [4, 5, 6]);
  store.put(C, DATE, seg(6, 7, "c"), [6, 7]);
  return store;
}

/** The stream sequences readers see, each once (the views drop duplicate stream sequences). */
const distinctSeqs = (store: FakeDayStore): number[] => [...new Set([...store.visible().values()].flat())].sort((a, b) => a - b);

async function onePass(store: FakeDayStore, more: Partial<CompactorOptions> = {}): Promise<{ compactor: Compactor; errors: unknown[] }> {
  const errors: unknown[] = [];
  const clock = new FakeClock(Date.UTC(2026, 5, 23));
  const compactor = Compactor.start(store, { clock, partitions: () => [P], tag: () => "day1", onError: (err) => errors.push(err), ...more });
  await compactor.pass();
  await compactor.stop();
  return { compactor, errors };
}

describe("the compactor", () => {
  it("merges a finished day into one file, and only then removes the segments: write under a temporary name, rename, sync, remove, sync", async () => {
    const store = storeWithDay();
    const { compactor } = await onePass(store);
    const output = `${FOLDER}/${seg(1, 7, "day1")}`;
    expect(store.calls).toEqual([
      `merge 3 → ${output}.tmp`,
      `rename ${output}.tmp → ${output}`,
      `sync ${FOLDER}`,
      `remove ${FOLDER}/${seg(1, 3, "a")}`,
      `remove ${FOLDER}/${seg(4, 6, "b")}`,
      `remove ${FOLDER}/${seg(6, 7, "c")}`,
      `sync ${FOLDER}`,
      `energy ${DATE} 2026-06-22 from 1 → ${ENERGY}`,
    ]);
    expect([...store.files]).toEqual([[output, [1, 2, 3, 4, 5, 6, 7]]]);
    expect([...store.energy]).toEqual([[ENERGY, [1, 2, 3, 4, 5, 6, 7]]]);
    expect(compactor.stats).toEqual({ compactions: 1, merged: 3, expired: 0, energy: 1 });
  });

  it("a crash at any step loses and duplicates nothing, and the next pass leaves one file with every stream sequence once", async () => {
    const steps = 8;
    for (let failAt = 0; failAt < steps; failAt += 1) {
      const store = storeWithDay();
      store.failAt = failAt;
      const { errors } = await onePass(store, { tag: () => "day1" });
      expect(errors, `crash at step ${failAt}`).toHaveLength(1);
      expect(distinctSeqs(store), `crash at step ${failAt}`).toEqual([1, 2, 3, 4, 5, 6, 7]);
      await onePass(store, { tag: () => "day2" });
      const left = [...store.files].filter(([path]) => !path.endsWith(".tmp"));
      expect(left.length, `after a crash at step ${failAt}`).toBe(1);
      expect([...left[0]![1]].sort((a, b) => a - b), `after a crash at step ${failAt}`).toEqual([1, 2, 3, 4, 5, 6, 7]);
      // The day's quarter hours, computed from that one file (named for it) and nothing else.
      const [name, seqs] = [...store.energy].at(-1)!;
      expect(name, `after a crash at step ${failAt}`).toBe(`energy_15m/${left[0]![0].replace(/\.parquet$/, "").replace("/p", "/none~p")}~none.parquet`);
      expect([...seqs].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    }
  });

  it("a merged file named as one of its inputs (the same tag over the same span) replaces that input and is not removed", async () => {
    const store = storeWithDay();
    await onePass(store, { tag: () => "same" });
    store.put(C, DATE, seg(2, 2, "late"), [2]);
    await onePass(store, { tag: () => "same" });
    expect([...store.files]).toEqual([[`${FOLDER}/${seg(1, 7, "same")}`, [1, 2, 3, 4, 5, 6, 7]]]);
  });

  it("passes once on start and then every few minutes, by the clock it is given", async () => {
    const store = new FakeDayStore();
    const clock = new FakeClock(Date.UTC(2026, 5, 23));
    const compactor = Compactor.start(store, { clock, partitions: () => [P] });
    await compactor.pass();
    expect(compactor.stats.compactions).toBe(0);
    store.put(C, DATE, seg(1, 1, "a"), [1]);
    store.put(C, DATE, seg(2, 2, "b"), [2]);
    clock.advance(DEFAULT_COMPACT_EVERY_MS - 1);
    await compactor.pass();
    expect(compactor.stats.compactions).toBe(1);
    store.put(C, DATE, seg(3, 3, "late"), [3]);
    clock.advance(1);
    await compactor.stop();
    expect(compactor.stats.compactions).toBe(2);
    expect(distinctSeqs(store)).toEqual([1, 2, 3]);
    expect(store.visible().size).toBe(1);
  });

  it("removes the days that ended more than the retention age ago and tells of each", async () => {
    const store = storeWithDay();
    store.put(C, "2026-06-22", seg(8, 8, "a"), [8]);
    const expired: string[] = [];
    const { compactor } = await onePass(store, { retentionMs: 12 * HOUR, onExpired: (day) => expired.push(`${day.communityId} ${day.date}`) });
    expect(expired).toEqual([`${C} ${DATE}`]);
    expect([...store.files.keys()]).toEqual([`community_id=${C}/date=2026-06-22/${seg(8, 8, "a")}`]);
    expect(compactor.stats).toEqual({ compactions: 0, merged: 0, expired: 1, energy: 0 });
  });

  it("computes a finished day's quarter hours again when a late segment is merged into it, and its neighbour's, whose edge depends on it; the stale files go", async () => {
    const store = new FakeDayStore();
    store.put(C, "2026-06-20", seg(1, 1, "day0"), [1]);
    store.put(C, DATE, seg(2, 2, "day0"), [2]);
    const first = await onePass(store);
    expect(first.compactor.stats.energy).toBe(2);
    store.put(C, DATE, seg(3, 3, "late"), [3]);
    const { compactor, errors } = await onePass(store, { tag: () => "day2" });
    expect(errors).toEqual([]);
    expect(compactor.stats).toEqual({ compactions: 1, merged: 2, expired: 0, energy: 2 });
    const merged = `p${P}-000000000002-000000000003-day2`;
    expect([...store.energy]).toEqual([
      [`energy_15m/community_id=${C}/date=2026-06-20/none~p${P}-000000000001-000000000001-day0~${merged}.parquet`, [1, 2, 3]],
      [`energy_15m/${FOLDER}/p${P}-000000000001-000000000001-day0~${merged}~none.parquet`, [1, 2, 3]],
    ]);
  });
});

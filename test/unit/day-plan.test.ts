import { describe, expect, it } from "vitest";
import { planDays, type DayPlanOptions } from "../../src/archive/day-plan.js";
import type { ArchiveDay } from "../../src/wire/archive-layout.js";
import { partitionOf } from "../../src/wire/names.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const C = "c1";
const P = partitionOf(C);
/** 2026-06-22 00:00 UTC: the end of 2026-06-21. */
const END_OF_21 = Date.UTC(2026, 5, 22);

const day = (date: string, files: readonly string[], communityId = C): ArchiveDay => ({ communityId, date, files });
const seg = (first: number, last: number, tag = "t", partition = P): string => `p${partition}-${String(first).padStart(12, "0")}-${String(last).padStart(12, "0")}-${tag}.parquet`;
const options = (nowMs: number, more: Partial<DayPlanOptions> = {}): DayPlanOptions => ({ nowMs, partitions: new Set([P]), compactAfterMs: HOUR, retentionMs: undefined, tag: "day1", ...more });

describe("the plan for finished days", () => {
  it("a day's segments are merged once the day ended at least the margin ago, into one file over their whole span of stream sequences", () => {
    const days = [day("2026-06-21", [seg(40, 90, "b"), seg(1, 30, "a"), seg(95, 95, "c")])];
    expect(planDays(days, options(END_OF_21 + HOUR - 1)).compact).toEqual([]);
    expect(planDays(days, options(END_OF_21 + HOUR)).compact).toEqual([
      {
        communityId: C,
        date: "2026-06-21",
        folder: "community_id=c1/date=2026-06-21",
        inputs: [seg(40, 90, "b"), seg(1, 30, "a"), seg(95, 95, "c")].map((name) => `community_id=c1/date=2026-06-21/${name}`),
        output: `community_id=c1/date=2026-06-21/${seg(1, 95, "day1")}`,
      },
    ]);
  });

  it("the day still running is never compacted, nor is a day of one file (already compacted, or one flush)", () => {
    const now = END_OF_21 + 10 * HOUR;
    const days = [day("2026-06-22", [seg(1, 2), seg(3, 4)]), day("2026-06-20", [seg(5, 9, "day0")])];
    expect(planDays(days, options(now)).compact).toEqual([]);
  });

  it("a compacted file and the late segments beside it are merged again", () => {
    const { compact } = planDays([day("2026-06-21", [seg(1, 900, "day0"), seg(1200, 1200, "late")])], options(END_OF_21 + 5 * DAY));
    expect(compact.map((c) => c.output)).toEqual([`community_id=c1/date=2026-06-21/${seg(1, 1200, "day1")}`]);
  });

  it("temporary files, other partitions' segments and files no archiver wrote are left alone", () => {
    const files = [seg(1, 2), `${seg(3, 4)}.tmp`, seg(5, 6, "t", (P + 1) % 8), "data_0.parquet", seg(7, 8)];
    const { compact } = planDays([day("2026-06-21", files)], options(END_OF_21 + DAY));
    expect(compact[0]!.inputs).toEqual([seg(1, 2), seg(7, 8)].map((name) => `community_id=c1/date=2026-06-21/${name}`));
  });

  it("only the days of the partitions it archives are its to compact or remove", () => {
    const other = ["c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"].find((id) => partitionOf(id) !== P)!;
    const days = [day("2026-06-21", [seg(1, 2), seg(3, 4)], other), day("2026-01-01", [seg(1, 2)], other)];
    expect(planDays(days, options(END_OF_21 + 400 * DAY, { retentionMs: DAY }))).toEqual({ compact: [], expire: [], energy: [] });
  });

  it("a day is removed once it ended more than the retention age ago, and then not compacted", () => {
    const days = [day("2026-06-19", [seg(1, 2), seg(3, 4)]), day("2026-06-20", [seg(5, 6), seg(7, 8)])];
    const plan = planDays(days, options(END_OF_21 + 1, { retentionMs: 2 * DAY }));
    expect(plan.expire).toEqual([{ communityId: C, date: "2026-06-19" }]);
    expect(plan.compact.map((c) => c.date)).toEqual(["2026-06-20"]);
    expect(planDays(days, options(END_OF_21, { retentionMs: 2 * DAY })).expire).toEqual([]);
  });

  it("without a retention age every day is kept", () => {
    expect(planDays([day("2000-01-01", [seg(1, 2)])], options(END_OF_21)).expire).toEqual([]);
  });
});

describe("the plan for finished days' quarter hours", () => {
  const energyDay = (date: string, files: readonly string[], energy: readonly string[]): ArchiveDay => ({ communityId: C, date, files, energy });
  const stem = (name: string): string => name.slice(0, -".parquet".length);

  it("a day compacted now gets its energy file, named for its readings file and its neighbours', and its finished neighbour's is written again", () => {
    const before = seg(1, 50, "day0");
    const days = [energyDay("2026-06-20", [before], [`none~${stem(before)}~${stem(seg(51, 60))}.parquet`]), day("2026-06-21", [seg(51, 60), seg(61, 90)])];
    const { energy } = planDays(days, options(END_OF_21 + HOUR));
    const merged = seg(51, 90, "day1");
    expect(energy).toEqual([
      {
        communityId: C,
        date: "2026-06-20",
        dates: ["2026-06-20"],
        readings: [`community_id=c1/date=2026-06-20/${before}`, `community_id=c1/date=2026-06-21/${merged}`],
        folder: "energy_15m/community_id=c1/date=2026-06-20",
        output: `energy_15m/community_id=c1/date=2026-06-20/none~${stem(before)}~${stem(merged)}.parquet`,
        stale: [`energy_15m/community_id=c1/date=2026-06-20/none~${stem(before)}~${stem(seg(51, 60))}.parquet`],
      },
      {
        communityId: C,
        date: "2026-06-21",
        // The 22nd holds no readings: the 21st's last holds reaching into it are the 21st's to keep.
        dates: ["2026-06-21", "2026-06-22"],
        readings: [`community_id=c1/date=2026-06-20/${before}`, `community_id=c1/date=2026-06-21/${merged}`],
        folder: "energy_15m/community_id=c1/date=2026-06-21",
        output: `energy_15m/community_id=c1/date=2026-06-21/${stem(before)}~${stem(merged)}~none.parquet`,
        stale: [],
      },
    ]);
  });

  it("a day whose energy file matches its files is left alone; one whose neighbour is not one file yet (the running day) gets none; nor does a day not finished", () => {
    const file = seg(1, 50, "day0");
    const days = [energyDay("2026-06-20", [file], [`none~${stem(file)}~none.parquet`]), day("2026-06-22", [seg(60, 61)]), day("2026-06-23", [seg(62, 63), seg(64, 65)])];
    expect(planDays(days, options(END_OF_21 + DAY + HOUR)).energy).toEqual([]);
  });

  it("a day beside a day removed by the retention age is computed again without it", () => {
    const [old, kept] = [seg(1, 2, "day0"), seg(3, 4, "day0")];
    const days = [energyDay("2026-06-19", [old], []), energyDay("2026-06-20", [kept], [`${stem(old)}~${stem(kept)}~none.parquet`])];
    const plan = planDays(days, options(END_OF_21 + 1, { retentionMs: 2 * DAY }));
    expect(plan.energy.map((write) => write.output)).toEqual([`energy_15m/community_id=c1/date=2026-06-20/none~${stem(kept)}~none.parquet`]);
  });
});

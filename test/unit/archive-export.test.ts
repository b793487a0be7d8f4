import { describe, expect, it } from "vitest";
import { exportName, parseArchiveTime, planExport } from "../../src/archive/export-plan.js";
import { exportArchive } from "../../src/archive/exporter.js";
import { UsageError } from "../../src/errors.js";
import { parseSegmentName } from "../../src/wire/archive-layout.js";
import { FakeExportFiles } from "../helpers/archive-fakes.js";

const NOW = Date.UTC(2026, 5, 23, 12);
const HOUR = 3_600_000;
const at = (iso: string): number => Date.parse(iso);
const file = (communityId: string, date: string, name = "p1-000000000001-000000000009-a1.parquet") => ({ communityId, date, name });

describe("the times of ecwatch export", () => {
  it("reads ISO-8601 with a zone, now and times relative to now", () => {
    expect(parseArchiveTime("2026-06-21T06:30:00Z", NOW)).toBe(at("2026-06-21T06:30:00Z"));
    expect(parseArchiveTime("2026-06-21T08:30:00+02:00", NOW)).toBe(at("2026-06-21T06:30:00Z"));
    expect(parseArchiveTime("now", NOW)).toBe(NOW);
    expect(parseArchiveTime("-24h", NOW)).toBe(NOW - 24 * HOUR);
    expect(parseArchiveTime(" -7d ", NOW)).toBe(NOW - 7 * 24 * HOUR);
  });

  it("a date alone is 00:00 UTC, the start of the archive's day", () => {
    expect(parseArchiveTime("2026-06-21", NOW)).toBe(Date.UTC(2026, 5, 21));
  });

  it("refuses a time without a zone, an impossible date and words", () => {
    for (const text of ["2026-06-21T06:30", "2026-02-30", "2026-6-1", "yesterday", "+24h", "-24", ""]) expect(parseArchiveTime(text, NOW), text).toBeUndefined();
  });
});

describe("the plan of an export", () => {
  const files = [
    file("c1", "2026-06-20"),
    file("c1", "2026-06-21"),
    file("c1", "2026-06-21", "p2-000000000003-000000000004-b2.parquet"),
    file("c1", "2026-06-22"),
    file("c1", "2026-06-23"),
    file("c1", "2026-06-24"),
    file("c2", "2026-06-22", "compacted.parquet"),
  ];

  it("copies the days that lie inside [from, to) whole, filters the first and last, and leaves the others out", () => {
    const plan = planExport(files, { fromMs: at("2026-06-21T06:00:00Z"), toMs: at("2026-06-23T18:00:00Z") });
    expect(plan.map((step) => `${step.kind} ${step.source}`)).toEqual([
      "filter community_id=c1/date=2026-06-21/p1-000000000001-000000000009-a1.parquet",
      "filter community_id=c1/date=2026-06-21/p2-000000000003-000000000004-b2.parquet",
      "copy community_id=c1/date=2026-06-22/p1-000000000001-000000000009-a1.parquet",
      "filter community_id=c1/date=2026-06-23/p1-000000000001-000000000009-a1.parquet",
      "copy community_id=c2/date=2026-06-22/compacted.parquet",
    ]);
  });

  it("the range is half-open: a day that starts at `to` is out, a day that ends at `to` is copied whole", () => {
    const plan = planExport(files, { fromMs: at("2026-06-21T00:00:00Z"), toMs: at("2026-06-23T00:00:00Z") });
    expect(plan.map((step) => `${step.kind} ${step.source.split("/")[1]}`)).toEqual(["copy date=2026-06-21", "copy date=2026-06-21", "copy date=2026-06-22", "copy date=2026-06-22"]);
  });

  it("a range within one day filters that day's files only", () => {
    const plan = planExport(files, { fromMs: at("2026-06-22T06:00:00Z"), toMs: at("2026-06-22T07:00:00Z") });
    expect(plan.map((step) => `${step.kind} ${step.source.split("/")[0]}`)).toEqual(["filter community_id=c1", "filter community_id=c2"]);
  });

  it("--community limits it to those communities", () => {
    const plan = planExport(files, { fromMs: at("2026-06-01T00:00:00Z"), toMs: at("2026-07-01T00:00:00Z") }, ["c2"]);
    expect(plan.map((step) => step.source)).toEqual(["community_id=c2/date=2026-06-22/compacted.parquet"]);
  });

  it("writes each file to the same folders, a segment under a name that is no segment's", () => {
    const [step] = planExport([file("c1", "2026-06-22")], { fromMs: 0, toMs: NOW });
    expect(step!.target).toBe("community_id=c1/date=2026-06-22/p1-000000000001-000000000009-a1.export.parquet");
    expect(parseSegmentName(step!.target.split("/").at(-1)!)).toBeUndefined();
    expect(exportName("compacted.parquet")).toBe("compacted.parquet");
    expect(exportName("p1-000000000001-000000000009-a1.export.parquet")).toBe("p1-000000000001-000000000009-a1.export.parquet");
  });
});

describe("an export over the archive's files", () => {
  const range = { fromMs: at("2026-06-21T06:00:00Z"), toMs: at("2026-06-23T00:00:00Z") };
  const archive = (): FakeExportFiles => new FakeExportFiles(["c1", "c2"], [file("c1", "2026-06-21"), file("c1", "2026-06-22"), file("c2", "2026-06-22")]);

  it("sums files, rows and bytes, copied and filtered", async () => {
    const files = archive();
    expect(await exportArchive(files, { range })).toEqual({ files: 3, rows: 23, bytes: 230, copied: 2, filtered: 1, planned: 3, interrupted: false });
  });

  it("a filtered file with no row in the range is not written and not counted", async () => {
    const files = archive();
    files.filteredRows = 0;
    const summary = await exportArchive(files, { range });
    expect(summary).toMatchObject({ files: 2, rows: 20, copied: 2, filtered: 0, planned: 3 });
    expect(files.written).toEqual(["copy community_id=c1/date=2026-06-22/p1-000000000001-000000000009-a1.export.parquet", "copy community_id=c2/date=2026-06-22/p1-000000000001-000000000009-a1.export.parquet"]);
  });

  it("an unknown --community is a usage error naming the flag, before anything is written", async () => {
    const files = archive();
    const exported = exportArchive(files, { range, communities: ["c1", "c9"] });
    await expect(exported).rejects.toBeInstanceOf(UsageError);
    await expect(exported).rejects.toThrow("--community c9: the archive holds no such community (it holds c1, c2).");
    expect(files.written).toEqual([]);
  });

  it("an abort stops it before the next file and says it is incomplete", async () => {
    const files = archive();
    const abort = new AbortController();
    files.onWrite = () => abort.abort();
    const summary = await exportArchive(files, { range }, { signal: abort.signal });
    expect(summary).toMatchObject({ files: 1, interrupted: true });
    expect(files.written).toHaveLength(1);
  });

  it("reports its progress after each file of the plan", async () => {
    const seen: string[] = [];
    await exportArchive(archive(), { range }, { onProgress: (summary, done) => seen.push(`${done}/${summary.planned} ${summary.files}`) });
    expect(seen).toEqual(["1/3 1", "2/3 2", "3/3 3"]);
  });
});

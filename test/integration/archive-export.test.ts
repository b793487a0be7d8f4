/**
 * `ecwatch export` on a real DuckDB (issue 22): an archive written by the project's own
 * ParquetSegments, exported over a range that cuts two days, reads back to exactly the source's
 * rows in that range; the whole days in between are copied byte for byte, the cut ones filtered.
 */
import { readFileSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportArchiveTo } from "../../src/app/archive.js";
import { ArchiveQuery } from "../../src/duckdb/archive-query.js";
import { sqlString } from "../../src/duckdb/parquet-segments.js";
import { writeArchive } from "../helpers/archive-files.js";

const FROM = "2026-06-21T06:00:00.000Z";
const TO = "2026-06-23T18:00:00.000Z";
const range = { fromMs: Date.parse(FROM), toMs: Date.parse(TO) };

let root: string;
let archive: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "ecwatch-export-"));
  archive = join(root, "archive");
  // Four days (the first and the last outside the range), every 10 minutes (readings fall on the range's ends), a segment per 5 hours.
  await writeArchive(archive, { communities: ["c1", "c2"], meters: 3, fromMs: Date.UTC(2026, 5, 20), toMs: Date.UTC(2026, 5, 24), stepMs: 600_000, flushMs: 5 * 3_600_000 });
}, 120_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** Rows of a SELECT over `dir` (its `readings` view, or read_parquet by path), as sorted JSON lines. */
async function rows(dir: string, sql: string): Promise<string[]> {
  const query = await ArchiveQuery.open(dir);
  try {
    return (await query.run(sql)).rows.map((row) => JSON.stringify(row)).sort();
  } finally {
    query.close();
  }
}

/** Every row of every file under `dir`, with the files' own columns (stream_seq too) and the folders' (community_id, date). */
const allColumns = (dir: string, where = "true"): string => `SELECT * FROM read_parquet(${sqlString(join(dir, "*", "*", "*.parquet"))}, hive_partitioning = true) WHERE ${where}`;

/** The files under `dir`, relative, sorted. */
const filesOf = (dir: string): string[] => readdirSync(dir, { recursive: true }).map(String).filter((entry) => entry.includes(".parquet")).sort();

const inRange = `measured_at >= TIMESTAMPTZ '${FROM}' AND measured_at < TIMESTAMPTZ '${TO}'`;

describe("ecwatch export", () => {
  it("an export over a range that cuts two days reads back to exactly the archive's rows in [from, to), whole days copied byte for byte", { timeout: 120_000 }, async () => {
    const out = join(root, "all");
    const summary = await exportArchiveTo(archive, out, { range });

    const expected = await rows(archive, `SELECT * FROM readings WHERE ${inRange}`);
    expect(expected.length).toBe(2 * 3 * 6 * (18 + 24 + 18));
    expect(await rows(out, "SELECT * FROM readings")).toEqual(expected);
    // The files keep every column of a segment, stream_seq included.
    expect(await rows(out, allColumns(out))).toEqual(await rows(archive, allColumns(archive, inRange)));
    // A reading at `from` is in, one at `to` is out.
    expect(await rows(out, `SELECT min(measured_at) AS first, max(measured_at) AS last FROM readings`)).toEqual([JSON.stringify({ first: "2026-06-21 06:00:00+00", last: "2026-06-23 17:50:00+00" })]);

    const sourceFiles = filesOf(archive);
    const exported = filesOf(out);
    const copied = exported.filter((file) => file.includes("date=2026-06-22"));
    expect(copied.length).toBe(sourceFiles.filter((file) => file.includes("date=2026-06-22")).length);
    for (const file of copied) {
      const source = file.replace(".export.parquet", ".parquet");
      expect(readFileSync(join(out, file)).equals(readFileSync(join(archive, source))), file).toBe(true);
    }
    const filtered = exported.filter((file) => !file.includes("date=2026-06-22"));
    expect(filtered.every((file) => /date=2026-06-2[13]\//.test(file) && file.endsWith(".export.parquet"))).toBe(true);
    // Of the cut days' segments, those with a reading in the range: 4 a day and community; one wholly before 06:00 on the 21st writes nothing.
    expect(filtered.length).toBe(2 * (4 + 4));
    expect(summary.planned).toBeGreaterThan(exported.length);
    expect(summary).toEqual({ files: exported.length, rows: expected.length, bytes: exported.reduce((sum, file) => sum + readFileSync(join(out, file)).length, 0), copied: copied.length, filtered: filtered.length, planned: expect.any(Number), interrupted: false });
    expect(exported.some((file) => file.endsWith(".tmp"))).toBe(false);
  });

  it("--community limits it to that community's folders and rows", { timeout: 120_000 }, async () => {
    const out = join(root, "c2");
    const summary = await exportArchiveTo(archive, out, { range, communities: ["c2"] });
    expect(readdirSync(out)).toEqual(["community_id=c2"]);
    const expected = await rows(archive, `SELECT * FROM readings WHERE community_id = 'c2' AND ${inRange}`);
    expect(await rows(out, "SELECT * FROM readings")).toEqual(expected);
    expect(summary.rows).toBe(expected.length);
  });
});

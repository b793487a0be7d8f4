import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ParquetSegments } from "../../src/duckdb/parquet-segments.js";

const dir = mkdtempSync(join(tmpdir(), "ecwatch-archive-wipe-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("wiping the archive (up --fresh)", () => {
  it("removes the segments, temporary files and the quarter hours computed from them, and nothing else", async () => {
    const day = join(dir, "community_id=c1", "date=2026-06-21");
    mkdirSync(day, { recursive: true });
    const energy = join(dir, "energy_15m", "community_id=c1", "date=2026-06-21");
    mkdirSync(energy, { recursive: true });
    writeFileSync(join(energy, "none~p3-000000000001-000000000009-9f3ac0d1-lz3k0~none.parquet"), "x");
    const files = ["p3-000000000001-000000000009-9f3ac0d1-lz3k0.parquet", "p3-000000000010-000000000012-lz3k1.parquet", "p3-000000000013-000000000014-9f3ac0d1-lz3k2.parquet.tmp", "mine.parquet", "notes.txt"];
    for (const file of files) writeFileSync(join(day, file), "x");
    expect(await ParquetSegments.removeAll(dir)).toBe(3);
    expect(readdirSync(day).sort()).toEqual(["mine.parquet", "notes.txt"]);
    expect(readdirSync(dir).sort()).toEqual(["community_id=c1"]);
  });

  it("a directory that does not exist holds nothing to remove", async () => {
    expect(await ParquetSegments.removeAll(join(dir, "none"))).toBe(0);
  });
});

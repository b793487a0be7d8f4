/**
 * The DuckDB adapter of a meter's archived readings (issue 23) over real Parquet segments, as the
 * archiver writes them: the readings around a span (the newest before it, the oldest after it,
 * across day folders), each instant once with its highest seq, the community's newest reading,
 * and no archive at all told apart from an unknown meter.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MeterState } from "../../src/domain/totals.js";
import { ArchiveMeterReadings } from "../../src/duckdb/archive-meter-readings.js";
import { ParquetSegments } from "../../src/duckdb/parquet-segments.js";
import { type ArchivedReading, segmentsOf } from "../../src/wire/archive-layout.js";

const MINUTE = 60_000;
/** 23:50 UTC: the readings cross midnight into a second day folder. */
const T0 = Date.UTC(2026, 0, 10, 23, 50);

let dir: string;
let archive: ArchiveMeterReadings;
let streamSeq = 0;

const reading = (communityId: string, meterId: string, state: MeterState): ArchivedReading => ({ communityId, meterId, state, streamSeq: (streamSeq += 1) });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ecwatch-meter-readings-"));
  const segments = await ParquetSegments.open(dir);
  try {
    // m1: every minute 23:50 … 00:29 (40 readings); m2: one reading at 00:40, the community's newest.
    const m1 = Array.from({ length: 40 }, (_, i) => reading("c1", "m1", { genW: i, conW: 0, measuredAtMs: T0 + i * MINUTE, seq: i + 1 }));
    const flushes = [
      m1.slice(0, 25),
      [
        ...m1.slice(25),
        // 00:05 again, as a second stream message (the archive holds it twice), and 00:06 corrected by a higher seq.
        reading("c1", "m1", m1[15]!.state),
        reading("c1", "m1", { ...m1[16]!.state, genW: 999, seq: 1_000 }),
        reading("c1", "m2", { genW: 5, conW: 0, measuredAtMs: T0 + 50 * MINUTE, seq: 1, intervalMs: 900_000, averaged: true }),
        reading("c2", "m1", { genW: 1, conW: 1, measuredAtMs: T0 + 90 * MINUTE, seq: 1 }),
      ],
    ];
    for (const [flush, readings] of flushes.entries()) for (const segment of segmentsOf(0, readings, `t${flush}`)) await segments.write(segment);
  } finally {
    segments.close();
  }
  archive = await ArchiveMeterReadings.open(dir);
});

afterAll(() => {
  archive?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("ArchiveMeterReadings", () => {
  it("reads the span, the newest `before` readings before it and the oldest `after` after it, across day folders, each instant once", async () => {
    const found = await archive.around("c1", "m1", { fromMs: T0 + 12 * MINUTE, toMs: T0 + 20 * MINUTE, before: 3, after: 2, reachMs: 36 * 3_600_000 });
    expect(found!.readings.map((r) => (r.measuredAtMs - T0) / MINUTE)).toEqual([9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]);
    // The instant stored twice counts once; of two readings of one instant the higher seq wins, as in the aggregator.
    expect(found!.readings.find((r) => r.measuredAtMs === T0 + 16 * MINUTE)).toEqual({ genW: 999, conW: 0, measuredAtMs: T0 + 16 * MINUTE, seq: 1_000 });
    expect(found!.newestMs).toBe(T0 + 50 * MINUTE);
  });

  it("keeps a reading's declared interval and averaging, and reaches no further than reachMs", async () => {
    const m2 = await archive.around("c1", "m2", { fromMs: T0, toMs: T0 + 60 * MINUTE, before: 6, after: 1, reachMs: MINUTE });
    expect(m2!.readings).toEqual([{ genW: 5, conW: 0, measuredAtMs: T0 + 50 * MINUTE, seq: 1, intervalMs: 900_000, averaged: true }]);
    const near = await archive.around("c1", "m1", { fromMs: T0 + 20 * MINUTE, toMs: T0 + 21 * MINUTE, before: 6, after: 1, reachMs: 2 * MINUTE });
    expect(near!.readings.map((r) => (r.measuredAtMs - T0) / MINUTE)).toEqual([18, 19, 20, 21]);
  });

  it("tells a meter it holds no reading of from one it does, and a directory without an archive from an empty span", async () => {
    expect(await archive.has("c1", "m1")).toBe(true);
    expect(await archive.has("c1", "m9")).toBe(false);
    expect(await archive.has("c9", "m1")).toBe(false);
    expect(await archive.around("c9", "m1", { fromMs: T0, toMs: T0 + MINUTE, before: 6, after: 1, reachMs: MINUTE })).toEqual({ readings: [], newestMs: Number.NEGATIVE_INFINITY });
    const nowhere = await ArchiveMeterReadings.open(join(dir, "missing"));
    try {
      expect(await nowhere.around("c1", "m1", { fromMs: T0, toMs: T0 + MINUTE, before: 6, after: 1, reachMs: MINUTE })).toBeUndefined();
    } finally {
      nowhere.close();
    }
  });
});

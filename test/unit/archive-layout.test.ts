import { describe, expect, it } from "vitest";
import { parseSegmentName, segmentName, utcDate } from "../../src/wire/archive-layout.js";

const reading = (streamSeq: number) => ({ communityId: "c1", meterId: "m1", state: { genW: 1, conW: 2, measuredAtMs: 0, seq: 1 }, streamSeq });

describe("the archive's layout", () => {
  it("a segment's name says its partition and the lowest and highest stream sequence it holds", () => {
    const name = segmentName(7, [reading(42), reading(9), reading(1_000_000)], "lz3k0");
    expect(name).toBe("p7-000000000009-000001000000-lz3k0.parquet");
    expect(parseSegmentName(name)).toEqual({ partition: 7, firstSeq: 9, lastSeq: 1_000_000 });
  });

  it("a tag may name the archiver that wrote the segment, apart from its flush", () => {
    expect(parseSegmentName(segmentName(2, [reading(5)], "9f3ac0d1-lz3k0"))).toEqual({ partition: 2, firstSeq: 5, lastSeq: 5 });
  });

  it("a temporary file, an export's file or anything else is no segment", () => {
    for (const name of ["p7-000000000009-000001000000-lz3k0.parquet.tmp", "data_0.parquet", "p7-9-10-x.parquet", "readme.txt"]) expect(parseSegmentName(name), name).toBeUndefined();
  });

  it("days are UTC days", () => {
    expect(utcDate(Date.UTC(2026, 5, 21, 23, 59, 59, 999))).toBe("2026-06-21");
    expect(utcDate(Date.UTC(2026, 5, 22))).toBe("2026-06-22");
  });
});

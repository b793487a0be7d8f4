/**
 * Archives on disk for tests of what reads them (export, query): readings written as segments by
 * the project's own ParquetSegments (a real DuckDB), several flushes per community and day.
 */
import { ParquetSegments } from "../../src/duckdb/parquet-segments.js";
import { type ArchivedReading, segmentsOf } from "../../src/wire/archive-layout.js";

/**
 * Every `stepMs` from `fromMs` (included) to `toMs` (excluded), one reading per meter of each
 * community; the readings of each partition are flushed every `flushMs` of data time, so a day
 * holds several segments. Resolves the number of readings written.
 */
export async function writeArchive(dir: string, options: { readonly communities: readonly string[]; readonly meters: number; readonly fromMs: number; readonly toMs: number; readonly stepMs: number; readonly flushMs: number }): Promise<number> {
  const segments = await ParquetSegments.open(dir);
  let streamSeq = 0;
  let written = 0;
  try {
    for (let flushStart = options.fromMs; flushStart < options.toMs; flushStart += options.flushMs) {
      for (const [partition, communityId] of options.communities.entries()) {
        const readings: ArchivedReading[] = [];
        for (let t = flushStart; t < Math.min(flushStart + options.flushMs, options.toMs); t += options.stepMs) {
          for (let m = 1; m <= options.meters; m++) {
            streamSeq += 1;
            const seq = Math.floor(t / 1000);
            readings.push({
              communityId,
              meterId: `meter${m}`,
              state: { genW: (seq * m) % 5000, conW: (seq + m) % 3000, measuredAtMs: t, seq, ...(m % 2 ? { intervalMs: options.stepMs, averaged: m % 3 === 0 } : {}) },
              streamSeq,
            });
          }
        }
        for (const segment of segmentsOf(partition, readings, `t${streamSeq.toString(36)}`)) {
          await segments.write(segment);
          written += segment.readings.length;
        }
      }
    }
  } finally {
    segments.close();
  }
  return written;
}

import { MAX_INTERVAL_MS } from "../domain/reading.js";
import type { HistoryBucket } from "./buckets.js";
import type { Step } from "./history-query.js";
import { historyBuckets, type Recorded } from "./history-store.js";
import { type Energy, addMinutes, minuteSlices } from "./meter-energy.js";
import { type EmitEnergy, MeterIntegrator, type RuleReading } from "./meter-integrator.js";
import { LEARNED_GAPS, holdMs } from "./validity.js";

/**
 * One meter's energy per bucket from its archived readings (issue 23), integrated by the same
 * MeterIntegrator as the aggregator's, so that a meter's history and the live numbers follow one
 * rule (validity.ts). Pure: no I/O; the readings come from the archive (src/duckdb/).
 */

/**
 * The readings around a span that its energy depends on, besides those within it: the newest
 * LEARNED_GAPS + 1 before it (the reading that holds at its start, and the gaps its cadence is
 * learned from) and the first after it (which cuts the last hold short, or reaches back into the
 * span when averaged), each at most REACH_MS away: the longest a reading holds (a declared
 * interval of a day, plus half of it). A meter that reports less often than every REACH_MS /
 * (LEARNED_GAPS + 1) (7.2 h) without declaring its interval learns its cadence from fewer gaps.
 */
export const READINGS_AROUND = { before: LEARNED_GAPS + 1, after: 1, reachMs: holdMs(MAX_INTERVAL_MS, 0) } as const;

/** What the archive holds for a meter's history: its readings around the span, and its community's newest archived reading. */
export interface ArchivedReadings {
  /** Oldest first, one per measuredAt (the highest seq). */
  readonly readings: readonly RuleReading[];
  /** The data time of the community's newest archived reading (−Infinity without one): how far the archive has come. */
  readonly newestMs: number;
}

/**
 * The meter's energy per minute within [startMs, endMs), and the data time before which it is
 * final. Final is what the aggregator has integrated once the community's newest archived reading
 * is its data time: a reading within its grace there is not final here either. The readings
 * after that count too, up to that newest reading (an instantaneous one holds until then, at most
 * its hold), in buckets that are not `complete`: a meter's newest quarter hours show what is known
 * of them. Readings are integrated in data-time order: one that reached the aggregator too late
 * (beyond its grace) is in its place here.
 */
export function meterRecorded({ readings, newestMs }: ArchivedReadings, startMs: number, endMs: number, floorMs: number): Recorded {
  const integrator = new MeterIntegrator(floorMs);
  for (const reading of readings) integrator.offer(reading);
  const watermarkMs = Math.max(newestMs, readings.at(-1)?.measuredAtMs ?? Number.NEGATIVE_INFINITY);
  const minutes = new Map<number, Energy>();
  const collectBefore =
    (limitMs: number): EmitEnergy =>
    (fromMs, toMs, power) => {
      const from = Math.max(fromMs, startMs);
      const to = Math.min(toMs, endMs, limitMs);
      if (to > from) addMinutes(minutes, minuteSlices(from, to, power));
    };
  integrator.advance(watermarkMs, collectBefore(endMs));
  const finalMs = Math.min(watermarkMs, integrator.finalThroughMs());
  // Not Infinity: a closed meter's deadline is Infinity, and advance runs while the deadline is not past the watermark.
  integrator.advance(Number.MAX_SAFE_INTEGER, collectBefore(watermarkMs));
  return { minutes, late: new Map(), finalMs };
}

/** The meter's buckets of `step` over the widened span [startMs, endMs), in order, only those with energy. */
export function meterHistory(archived: ArchivedReadings, span: { readonly startMs: number; readonly endMs: number }, step: Step, timeZone: string, floorMs: number): HistoryBucket[] {
  return historyBuckets(meterRecorded(archived, span.startMs, span.endMs, floorMs), step, timeZone);
}

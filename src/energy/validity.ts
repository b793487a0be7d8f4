/**
 * The one rule of how long a meter's reading holds (issue 17), used by the live totals, the
 * energy, the simulator's ground truth and the docs. Pure: no I/O.
 *
 * A reading holds until its meter's next reading, for up to the meter's cadence plus a
 * tolerance for jitter: half a cadence, at least `--stale-after` (the floor). The cadence is the
 * reading's own `intervalMs` when it declares one, else learned: the median of the meter's last
 * LEARNED_GAPS gaps between readings, so one missed or doubled reading does not move it and a
 * device reconfigured from 1 min to 15 min is followed within three readings. While a meter's
 * cadence is unknown (its first reading, nothing declared) it is taken as UNKNOWN_CADENCE_MS,
 * the longest interval in use, so a new meter counts at once. A meter whose newest reading no
 * longer holds has missed its cadence: it leaves the totals and the energy and is counted stale.
 *
 * Example: a gateway sends 15-minute values (`intervalMs` 900000, `averaged` true). Each holds
 * 15 min + 7.5 min = 22.5 min; its power is the mean over the 15 minutes before its
 * `measuredAt`, so the value stamped 12:15 is the energy of 12:00–12:15. A missing 12:30 value
 * leaves 12:15–12:30 out of the energy, and the meter counts as stale from 12:37:30 until its
 * next value.
 */
import { MINUTE_MS } from "./meter-energy.js";

/** Gaps a learned cadence is the median of. */
export const LEARNED_GAPS = 5;
/** The cadence taken while a meter's is unknown: 15 min, the longest reporting interval in use (EU settlement). */
export const UNKNOWN_CADENCE_MS = 15 * MINUTE_MS;
/** A reading later than this many of its meter's intervals (data time) comes too late to be integrated in its place. */
export const GRACE_INTERVALS = 3;
/** The floor of the tolerance by default: `--stale-after`. */
export const DEFAULT_STALE_AFTER_MS = 30_000;

const scratch: number[] = [];

/**
 * The median of the gaps (the lower one of an even count: a long outage gap does not stretch the
 * hold); undefined without gaps. Sorts a copy of at most LEARNED_GAPS in place: it runs per reading.
 */
export function learnedCadenceMs(gaps: readonly number[]): number | undefined {
  const n = gaps.length;
  if (!n) return undefined;
  scratch.length = n;
  for (let i = 0; i < n; i += 1) {
    const gap = gaps[i]!;
    let j = i;
    while (j > 0 && scratch[j - 1]! > gap) {
      scratch[j] = scratch[j - 1]!;
      j -= 1;
    }
    scratch[j] = gap;
  }
  return scratch[(n - 1) >> 1];
}

/** A meter's cadence: declared by its reading, else learned from its gaps; undefined while unknown. */
export function cadenceMs(declaredMs: number | undefined, gaps: readonly number[]): number | undefined {
  return declaredMs ?? learnedCadenceMs(gaps);
}

/** How long past its cadence a meter may be silent before it counts as stale: half a cadence, at least the floor. */
export function toleranceMs(cadence: number | undefined, floorMs: number): number {
  return Math.max(floorMs, Math.floor((cadence ?? UNKNOWN_CADENCE_MS) / 2));
}

/** How long a reading holds after its measuredAt: its meter's cadence plus the tolerance. */
export function holdMs(cadence: number | undefined, floorMs: number): number {
  return (cadence ?? UNKNOWN_CADENCE_MS) + toleranceMs(cadence, floorMs);
}

/** How late (data time behind its community's newest reading) a reading may come and still be integrated in its place. */
export function graceMs(cadence: number | undefined): number {
  return GRACE_INTERVALS * (cadence ?? UNKNOWN_CADENCE_MS);
}

import { type Glance, mergeGlances } from "./glances.js";

/**
 * How far the watch's value was from the truth while the user was looking, and how old it got
 * while nobody looked (issue 5, items 5 and 7).
 */

/** A step function over time: the value from atMs until the next point. */
export type Timeline = ReadonlyArray<{ readonly atMs: number; readonly value: number }>;

/** The watch shows kW with two decimals: one step of the display is 10 W. */
export const DISPLAY_STEP_W = 10;

export interface StalenessReport {
  /** Median |displayed − truth| over the samples taken while looking, W; 0 when nobody looked. */
  readonly p50W: number;
  /** 99th percentile of the same errors, W; 0 when nobody looked. */
  readonly p99W: number;
  /** The longest stretch, while looking, that the display was more than one display step off, s (sample resolution). */
  readonly maxStaleSeconds: number;
  /** Outside the glances, the longest time without a delivery to the watch, ms. */
  readonly maxAgeNotLookingMs: number;
}

/**
 * Samples every `sampleMs` (default 1000) inside the glances: error = |displayed − truth|;
 * p50/p99 of the errors; maxStaleSeconds = the longest stretch, while looking, that the error
 * exceeded one display step; maxAgeNotLookingMs = outside the glances, the longest time the
 * displayed value went without being refreshed from a delivery (`refreshes`, the times the
 * watch received a value).
 *
 * Sampling: each glance (clipped to [startMs, endMs); overlapping or touching glances merged) is
 * cut into [g, g + sampleMs), [g + sampleMs, g + 2·sampleMs), … with the last piece ending at the
 * glance's end, and each piece is judged by the sample at its start. The first sample is the
 * glance's start, the moment the user looks. Each sample weighs the same in p50/p99 (nearest
 * rank: the smallest error that at least p % of the samples do not exceed).
 *
 * A stale stretch is a run of consecutive samples of one glance whose error exceeds
 * DISPLAY_STEP_W (strictly: exactly one step off is not stale); its length is the sum of their
 * pieces. So with 1-s samples a single stale sample counts as 1 s, two in a row as 2 s, and a
 * stretch never bridges the time between two glances.
 *
 * A sample before the first truth point is not judged. A sample with a truth but nothing
 * displayed yet (before the first displayed point) counts as stale — the user sees a blank — but
 * has no error to enter p50/p99.
 *
 * maxAgeNotLookingMs is exact, not sampled: over every moment t in [startMs, endMs) outside the
 * glances, the supremum of t − (the last refresh at or before t, which may precede startMs);
 * before any refresh the age counts from startMs.
 */
export function stalenessReport(input: {
  readonly truth: Timeline;
  readonly displayed: Timeline;
  readonly refreshes: readonly number[];
  readonly glances: readonly Glance[];
  readonly startMs: number;
  readonly endMs: number;
  readonly sampleMs?: number;
}): StalenessReport {
  const { startMs, endMs, sampleMs = 1000 } = input;
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || endMs < startMs) {
    throw new RangeError(`the run must be a finite [startMs, endMs) with endMs ≥ startMs, not [${startMs}, ${endMs})`);
  }
  if (!Number.isFinite(sampleMs) || sampleMs <= 0) throw new RangeError(`sampleMs must be a positive number of ms, not ${sampleMs}`);

  const glances = clip(mergeGlances(input.glances), startMs, endMs);
  const truth = new Cursor(input.truth);
  const displayed = new Cursor(input.displayed);
  const errors: number[] = [];
  let maxStaleMs = 0;
  for (const glance of glances) {
    let staleMs = 0;
    for (let at = glance.startMs; at < glance.endMs; at += sampleMs) {
      const real = truth.valueAt(at);
      if (real === undefined) {
        staleMs = 0;
        continue;
      }
      const shown = displayed.valueAt(at);
      const error = shown === undefined ? Infinity : Math.abs(shown - real);
      if (shown !== undefined) errors.push(error);
      if (error > DISPLAY_STEP_W) {
        staleMs += Math.min(sampleMs, glance.endMs - at);
        maxStaleMs = Math.max(maxStaleMs, staleMs);
      } else {
        staleMs = 0;
      }
    }
  }
  const sorted = Float64Array.from(errors).sort();
  return {
    p50W: nearestRank(sorted, 50),
    p99W: nearestRank(sorted, 99),
    maxStaleSeconds: maxStaleMs / 1000,
    maxAgeNotLookingMs: maxAgeNotLooking(Float64Array.from(input.refreshes).sort(), glances, startMs, endMs),
  };
}

/** Reads a step function at increasing times in amortised O(1). */
class Cursor {
  private readonly points: Timeline;
  private next = 0;
  private value: number | undefined;

  constructor(timeline: Timeline) {
    // A stable sort keeps the input order of points at the same time: the later one wins.
    this.points = isSorted(timeline) ? timeline : [...timeline].sort((a, b) => a.atMs - b.atMs);
  }

  /** The value at `atMs`; callers ask at non-decreasing times. */
  valueAt(atMs: number): number | undefined {
    for (let p = this.points[this.next]; p !== undefined && p.atMs <= atMs; p = this.points[++this.next]) this.value = p.value;
    return this.value;
  }
}

function isSorted(timeline: Timeline): boolean {
  for (let i = 1; i < timeline.length; i++) if ((timeline[i]?.atMs ?? 0) < (timeline[i - 1]?.atMs ?? 0)) return false;
  return true;
}

function clip(glances: readonly Glance[], startMs: number, endMs: number): Glance[] {
  return glances
    .map((g) => ({ startMs: Math.max(g.startMs, startMs), endMs: Math.min(g.endMs, endMs) }))
    .filter((g) => g.startMs < g.endMs);
}

/** Nearest rank on ascending values: the ⌈p/100 · n⌉-th smallest; 0 for no values. */
function nearestRank(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/**
 * Age grows linearly between refreshes, so within each stretch [u, v) outside the glances its
 * supremum is reached just before a refresh inside the stretch or just before v.
 */
function maxAgeNotLooking(refreshes: Float64Array, glances: readonly Glance[], startMs: number, endMs: number): number {
  const notLooking: Array<[number, number]> = [];
  let from = startMs;
  for (const g of glances) {
    if (g.startMs > from) notLooking.push([from, g.startMs]);
    from = g.endMs;
  }
  if (endMs > from) notLooking.push([from, endMs]);

  let maxAge = 0;
  let i = 0; // refreshes[0 .. i) are at or before the current moment
  let last: number | undefined; // the latest refresh so far
  for (const [u, v] of notLooking) {
    for (let r = refreshes[i]; r !== undefined && r <= u; r = refreshes[++i]) last = r;
    for (let r = refreshes[i]; r !== undefined && r < v; r = refreshes[++i]) {
      maxAge = Math.max(maxAge, r - (last ?? startMs));
      last = r;
    }
    maxAge = Math.max(maxAge, v - (last ?? startMs));
  }
  return maxAge;
}

import { seededRandom } from "../sim/random.js";

/**
 * When a person looks at the watch, for runs without a person (`--glances 60/day`, issue 5,
 * item 4). A glance is the half-open interval [startMs, endMs) during which the app is on screen.
 */
export interface Glance {
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * People look at their watch while awake: glances fall only between 07:00 and 23:00 UTC
 * (16 waking hours), none at night. UTC keeps a pattern independent of the machine's zone.
 */
export const WAKING_HOURS_UTC = { from: 7, until: 23 } as const;
export const GLANCE_MIN_MS = 5_000;
export const GLANCE_MAX_MS = 10_000;
/** Two glances are at least this far apart, so that a glance's close and the next open are distinct events. */
export const GLANCE_GAP_MS = 1_000;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const WAKING_MS = (WAKING_HOURS_UTC.until - WAKING_HOURS_UTC.from) * HOUR_MS;
/** As many glances as fit into the waking hours even if every one lasts the longest: 5236/day. */
export const MAX_GLANCES_PER_DAY = Math.floor((WAKING_MS + GLANCE_GAP_MS) / (GLANCE_MAX_MS + GLANCE_GAP_MS));

/**
 * `perDay` glances of 5–10 s each (whole ms), seeded, spread uniformly over the waking hours
 * (07:00–23:00 UTC) inside [startMs, startMs + durationMs), at least 1 s apart, sorted.
 *
 * A waking stretch of the run gets perDay × its share of 16 h glances (rounded cumulatively, so a
 * whole day gets exactly `perDay`, and a run at night gets none). Within a stretch, positions are
 * uniform over all non-overlapping placements. A stretch too short for its share (only possible at
 * the edge of a run) gets as many as fit.
 */
export function glancePattern(options: {
  readonly seed: number;
  readonly perDay: number;
  readonly startMs: number;
  readonly durationMs: number;
}): Glance[] {
  const { seed, perDay, startMs, durationMs } = options;
  if (!Number.isFinite(perDay) || perDay < 0 || perDay > MAX_GLANCES_PER_DAY) {
    throw new RangeError(`perDay must be from 0 to ${MAX_GLANCES_PER_DAY}, not ${perDay}`);
  }
  if (!Number.isFinite(startMs) || !Number.isFinite(durationMs) || durationMs < 0) {
    throw new RangeError(`the run must have a finite start and a duration ≥ 0, not ${startMs} + ${durationMs}`);
  }
  const random = seededRandom(seed);
  const glances: Glance[] = [];
  let awakeSoFar = 0;
  let placedShare = 0;
  for (const [from, until] of wakingStretches(startMs, startMs + durationMs)) {
    awakeSoFar += until - from;
    const share = Math.round((perDay * awakeSoFar) / WAKING_MS);
    const fits = Math.floor((until - from + GLANCE_GAP_MS) / (GLANCE_MAX_MS + GLANCE_GAP_MS));
    placeGlances(glances, from, until, Math.min(share - placedShare, fits), random);
    placedShare = share;
  }
  return glances;
}

/** The waking hours inside [from, until), one interval per UTC day. */
function wakingStretches(from: number, until: number): Array<[number, number]> {
  const stretches: Array<[number, number]> = [];
  for (let day = Math.floor(from / DAY_MS) * DAY_MS; day < until; day += DAY_MS) {
    const a = Math.max(from, day + WAKING_HOURS_UTC.from * HOUR_MS);
    const b = Math.min(until, day + WAKING_HOURS_UTC.until * HOUR_MS);
    if (a < b) stretches.push([a, b]);
  }
  return stretches;
}

/**
 * Places `count` glances in [from, until): draw the lengths, then spread the free time as
 * `count` + 1 gaps from sorted uniform points (stars and bars), which makes every
 * non-overlapping placement equally likely.
 */
function placeGlances(into: Glance[], from: number, until: number, count: number, random: () => number): void {
  if (count <= 0) return;
  const lengths = Array.from({ length: count }, () => GLANCE_MIN_MS + Math.floor(random() * (GLANCE_MAX_MS - GLANCE_MIN_MS + 1)));
  const busy = lengths.reduce((sum, l) => sum + l, 0) + (count - 1) * GLANCE_GAP_MS;
  const free = Math.max(0, Math.floor(until - from - busy));
  const offsets = Float64Array.from({ length: count }, () => Math.floor(random() * (free + 1))).sort();
  let used = 0;
  lengths.forEach((length, i) => {
    const startMs = from + (offsets[i] ?? 0) + used;
    into.push({ startMs, endMs: startMs + length });
    used += length + GLANCE_GAP_MS;
  });
}

const RATE_PATTERN = /^(\d+(?:\.\d+)?)\s*\/\s*(d|day|h|hour)$/;

/** Parses `60/day` or `4/h` (also `/d`, `/hour`) into glances per day; throws an Error naming the problem. */
export function parseGlanceRate(text: string): number {
  const match = RATE_PATTERN.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a glance rate; write it like 60/day or 4/h`);
  const perUnit = Number(match[1]);
  const perDay = match[2] === "h" || match[2] === "hour" ? perUnit * 24 : perUnit;
  if (perDay > MAX_GLANCES_PER_DAY) {
    throw new Error(`"${text}" is ${perDay} glances a day; at most ${MAX_GLANCES_PER_DAY} fit into 16 waking hours`);
  }
  return perDay;
}

/** Whether `atMs` falls inside one of `glances` (sorted, non-overlapping); start inclusive, end exclusive. */
export function isLooking(glances: readonly Glance[], atMs: number): boolean {
  // The last glance that starts at or before atMs is the only one that can contain it.
  let lo = 0;
  let hi = glances.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((glances[mid]?.startMs ?? Infinity) <= atMs) lo = mid + 1;
    else hi = mid;
  }
  const candidate = glances[lo - 1];
  return candidate !== undefined && atMs < candidate.endMs;
}

/** Total time on screen; overlapping glances count once. */
export function screenOnMs(glances: readonly Glance[]): number {
  let total = 0;
  for (const { startMs, endMs } of mergeGlances(glances)) total += endMs - startMs;
  return total;
}

/** The glances sorted, with overlapping or touching ones merged and empty ones dropped. */
export function mergeGlances(glances: readonly Glance[]): Glance[] {
  const sorted = glances.filter((g) => g.endMs > g.startMs).sort((a, b) => a.startMs - b.startMs);
  const merged: Glance[] = [];
  for (const glance of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && glance.startMs <= last.endMs) merged[merged.length - 1] = { startMs: last.startMs, endMs: Math.max(last.endMs, glance.endMs) };
    else merged.push(glance);
  }
  return merged;
}

import { hashString } from "./random.js";

/**
 * When a simulated meter reports (issue 17). Real meters report every 1 s to 15 min, each on
 * its own clock phase: `spread` gives every meter a seeded offset within its interval,
 * `aligned` has all meters of an interval report in the same instant (one burst per interval,
 * the load shape of `ecwatch bench`). Pure: no I/O.
 */
export const PHASES = ["spread", "aligned"] as const;
export type Phase = (typeof PHASES)[number];

/** `--jitter` stays below half an interval, so a meter's readings keep their order in data time. */
export const MAX_JITTER = 0.5;

/** The longest model step of an averaged meter: its mean is that of the power sampled at most this far apart. */
export const MAX_AVERAGING_STEP_MS = 60_000;

/** A 32-bit integer hash (murmur3's finalizer): stateless, so a meter's phase or jitter does not depend on what else runs. */
function mix(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The seed of one meter's phase and jitter: `key` is `<communityId>/<meterId>`. */
export const cadenceKey = (seed: number, key: string): number => mix(seed ^ hashString(`cadence/${key}`));

/**
 * A meter's offset within its interval, 0 ≤ offset < intervalMs (whole ms), the same for the
 * same seed and scenario. The `count` meters of one interval in a community each get a stratum
 * of it of their own, in meter order from a seeded start (`communityKey`), and a seeded place
 * within it (`key`): evenly spread, and the simulator steps a community's meters in the order
 * they lie in memory. Offsets drawn at random for 100,000 meters made every reading a cache
 * miss: 5.5 µs instead of 1.2 µs a reading (bench:sim's 100 × 1,000 meters every 2 s).
 */
export function phaseOffsetMs(key: number, intervalMs: number, communityKey = 0, rank = 0, count = 1): number {
  const start = (mix(communityKey) / 4294967296) * intervalMs;
  return Math.floor(start + ((rank + mix(key) / 4294967296) * intervalMs) / count) % intervalMs;
}

/** The most a reading of a meter with this interval is moved by `--jitter` (whole ms, below half the interval). */
export function maxJitterMs(fraction: number, intervalMs: number): number {
  return Math.min(Math.floor(fraction * intervalMs), Math.ceil(intervalMs / 2) - 1);
}

/** How far the `cycle`-th reading of a meter is moved: from −maxMs to +maxMs, seeded by the meter and the cycle. */
export function jitterMs(key: number, cycle: number, maxMs: number): number {
  if (maxMs <= 0) return 0;
  const unit = mix(key + Math.imul(cycle + 1, 0x9e3779b9)) / 4294967295;
  return Math.round((unit * 2 - 1) * maxMs);
}

/**
 * The model step of an averaged meter: the longest whole-second divisor of its interval up to
 * MAX_AVERAGING_STEP_MS, so the samples tile the interval exactly (15 min: 15 steps of 1 min).
 * The models average a spike over their step (meter-model.ts), so coarse steps keep the energy right.
 */
export function averagingStepMs(intervalMs: number): number {
  if (intervalMs <= MAX_AVERAGING_STEP_MS) return intervalMs;
  // (A scenario's averaged interval is whole seconds; whole ms otherwise.)
  const unitMs = intervalMs % 1000 === 0 ? 1000 : 1;
  for (let samples = Math.ceil(intervalMs / MAX_AVERAGING_STEP_MS); ; samples += 1) {
    if (intervalMs % samples === 0 && (intervalMs / samples) % unitMs === 0) return intervalMs / samples;
  }
}

/** Parses `--jitter`: a fraction from 0 to below MAX_JITTER, e.g. `0.1`; throws an Error saying what is expected. */
export function parseJitter(text: string): number {
  const value = Number(text);
  if (!/^\d*\.?\d+$/.test(text.trim()) || !(value >= 0 && value < MAX_JITTER)) {
    throw new Error(`expected a fraction of the interval from 0 to below ${MAX_JITTER}, e.g. 0.1, not "${text}"`);
  }
  return value;
}

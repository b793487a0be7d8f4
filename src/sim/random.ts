/** A seeded uniform random stream in [0, 1) (mulberry32): the same seed gives the same run. */
export type Random = () => number;

export function seededRandom(seed: number): Random {
  // In a typed array, not a closure variable: a uint32 above 2^31 in a closure is a new heap
  // number on every call, kept alive until the meter's next step (100,000 meters: GC load).
  const state = new Uint32Array([seed >>> 0]);
  return () => {
    state[0] = state[0]! + 0x6d2b79f5;
    let t = state[0]!;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export { hashString } from "../domain/hash.js";

/** A normally distributed sample (Box–Muller). */
export function gaussian(random: Random): number {
  const u = Math.max(random(), Number.EPSILON);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

import { describe, expect, it } from "vitest";
import { gaussian, hashString, seededRandom } from "../../src/sim/random.js";

const take = (random: () => number, n: number): number[] => Array.from({ length: n }, () => random());

describe("seededRandom", () => {
  it("gives the same sequence for the same seed", () => {
    expect(take(seededRandom(42), 20)).toEqual(take(seededRandom(42), 20));
  });

  it("gives another sequence for another seed", () => {
    expect(take(seededRandom(42), 5)).not.toEqual(take(seededRandom(43), 5));
  });

  it("stays within [0, 1)", () => {
    const values = take(seededRandom(7), 10_000);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
  });

  it("is roughly uniform: the mean of many draws is near 0.5", () => {
    const values = take(seededRandom(1), 20_000);
    expect(values.reduce((a, b) => a + b, 0) / values.length).toBeCloseTo(0.5, 1);
  });

  it("treats seeds as 32-bit unsigned: -1 and 2^32 − 1 are the same seed", () => {
    expect(take(seededRandom(-1), 5)).toEqual(take(seededRandom(0xffffffff), 5));
  });
});

describe("hashString", () => {
  it("is FNV-1a 32-bit", () => {
    expect(hashString("")).toBe(0x811c9dc5);
    expect(hashString("a")).toBe(0xe40c292c);
    expect(hashString("foobar")).toBe(0xbf9cf968);
  });

  it("differs for different ids", () => {
    expect(hashString("community1")).not.toBe(hashString("community2"));
  });
});

describe("gaussian", () => {
  it("has mean about 0 and standard deviation about 1", () => {
    const random = seededRandom(99);
    const samples = Array.from({ length: 20_000 }, () => gaussian(random));
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    const variance = samples.reduce((a, b) => a + (b - mean) ** 2, 0) / samples.length;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.sqrt(variance)).toBeGreaterThan(0.95);
    expect(Math.sqrt(variance)).toBeLessThan(1.05);
  });

  it("is finite even when the uniform stream yields 0", () => {
    const zeros = () => 0;
    expect(Number.isFinite(gaussian(zeros))).toBe(true);
  });
});

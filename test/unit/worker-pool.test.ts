import { describe, expect, it } from "vitest";
import { DEFAULT_RESTART, restartDelayMs, workerCount } from "../../src/stack/worker-pool.js";
import { availableParallelism } from "node:os";

describe("restartDelayMs", () => {
  it("replaces a lone crash at once", () => {
    expect(restartDelayMs([1_000], 1_000)).toBe(0);
  });

  it("doubles the delay with each further crash within the window, up to the maximum, so a crash loop does not spin", () => {
    const crashes: number[] = [];
    const delays: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      crashes.push(i * 10);
      delays.push(restartDelayMs(crashes, i * 10));
    }
    expect(delays).toEqual([0, 100, 200, 400, 800, 1_600, 3_200, 6_400, 10_000, 10_000]);
  });

  it("forgets crashes older than the window", () => {
    expect(restartDelayMs([0, 1_000, DEFAULT_RESTART.windowMs + 2_000], DEFAULT_RESTART.windowMs + 2_000)).toBe(0);
  });
});

describe("workerCount", () => {
  it("reads auto as one worker per core, and a number as itself", () => {
    expect(workerCount("auto")).toBe(availableParallelism());
    expect(workerCount(3)).toBe(3);
  });
});

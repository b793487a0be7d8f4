import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseCommunityTrace } from "../../src/wear-emu/community-trace.js";
import { comparePolicies } from "../../src/wear-emu/compare.js";
import { glancePattern } from "../../src/wear-emu/glances.js";

const trace = parseCommunityTrace(readFileSync(new URL("../../fixtures/traces/village-day-1s.csv.gz", import.meta.url)));
const options = { idleIntervalMs: 15 * 60_000, batchDelayMs: 5 * 60_000, coalesceMs: 500, alwaysOn: false };

describe("the prototype's and the energy-aware policy over the recorded village day", () => {
  const glances = glancePattern({ seed: 1, perDay: 60, startMs: trace.startMs, durationMs: trace.netW.length * trace.stepMs });
  const result = comparePolicies(trace, glances, options);

  it("is a day of 1-second aggregates", () => {
    expect(trace.netW.length).toBe(86_400);
    expect(trace.stepMs).toBe(1_000);
  });

  it("the energy-aware policy needs at least 20× fewer watch wake-ups", () => {
    expect(result.prototype.wakeupsPerHour).toBeGreaterThan(3_500);
    expect(result.wakeupRatio).toBeGreaterThanOrEqual(20);
    expect(result.energyAware.mAhPerDay).toBeLessThan(result.prototype.mAhPerDay);
  });

  it("while the user looks, the display is never more than one display step off for longer than 1 s", () => {
    expect(result.energyAware.staleness.maxStaleSeconds).toBeLessThanOrEqual(1);
  });

  it("while the user does not look, the watch's value is never older than the idle interval", () => {
    expect(result.energyAware.staleness.maxAgeNotLookingMs).toBeLessThanOrEqual(options.idleIntervalMs);
  });
});

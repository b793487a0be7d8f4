import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../src/domain/duration.js";

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["2s", 2_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["1d", 86_400_000],
    ["1.5s", 1_500],
    ["0.5m", 30_000],
    [" 2s ", 2_000],
  ])("reads %j as %i ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it("rounds fractions of a millisecond to whole milliseconds", () => {
    expect(parseDuration("1.6ms")).toBe(2);
  });

  it.each(["", "2", "s", "2 s", "-2s", "2sec", "2S", "1e3ms", "2s5", ".5s"])("rejects the malformed duration %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe("formatDuration", () => {
  it.each([
    [250, "250ms"],
    [2_000, "2s"],
    [1_500, "1.5s"],
    [300_000, "5m"],
    [90_000, "1.5m"],
    [3_600_000, "1h"],
    [86_400_000, "1d"],
    [2 * 86_400_000, "2d"],
  ])("writes %i ms as %j", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("writes what parseDuration reads back to the same number of milliseconds", () => {
    for (const ms of [500, 2_000, 1_500, 300_000, 3_600_000, 86_400_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});

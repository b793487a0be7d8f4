import { describe, expect, it } from "vitest";
import {
  GLANCE_GAP_MS,
  type Glance,
  MAX_GLANCES_PER_DAY,
  glancePattern,
  isLooking,
  parseGlanceRate,
  screenOnMs,
} from "../../src/wear-emu/glances.js";

const HOUR = 3_600_000;
const DAY = 86_400_000;
const MIDNIGHT = Date.UTC(2026, 5, 21); // a UTC midnight

const hourOfDay = (ms: number) => ((ms % DAY) + DAY) % DAY / HOUR;

describe("glancePattern", () => {
  const day = glancePattern({ seed: 1, perDay: 60, startMs: MIDNIGHT, durationMs: DAY });

  it("gives exactly perDay glances over a whole day", () => {
    expect(day).toHaveLength(60);
  });

  it("makes every glance last 5–10 s", () => {
    for (const g of day) {
      expect(g.endMs - g.startMs).toBeGreaterThanOrEqual(5_000);
      expect(g.endMs - g.startMs).toBeLessThanOrEqual(10_000);
    }
  });

  it("sorts the glances and keeps them at least a second apart", () => {
    for (let i = 1; i < day.length; i++) {
      expect(day[i]!.startMs - day[i - 1]!.endMs).toBeGreaterThanOrEqual(GLANCE_GAP_MS);
    }
  });

  it("puts glances only between 07:00 and 23:00 UTC", () => {
    for (const g of day) {
      expect(hourOfDay(g.startMs)).toBeGreaterThanOrEqual(7);
      expect(hourOfDay(g.endMs - 1)).toBeLessThan(23);
      expect(g.startMs).toBeGreaterThanOrEqual(MIDNIGHT);
      expect(g.endMs).toBeLessThanOrEqual(MIDNIGHT + DAY);
    }
  });

  it("spreads the glances over the waking day instead of bunching them", () => {
    const many = glancePattern({ seed: 3, perDay: 1000, startMs: MIDNIGHT, durationMs: DAY });
    const morning = many.filter((g) => hourOfDay(g.startMs) < 15).length;
    // 07–15 is half of the 16 waking hours.
    expect(morning).toBeGreaterThan(430);
    expect(morning).toBeLessThan(570);
  });

  it("gives the same pattern for the same seed and another for another seed", () => {
    expect(glancePattern({ seed: 1, perDay: 60, startMs: MIDNIGHT, durationMs: DAY })).toEqual(day);
    expect(glancePattern({ seed: 2, perDay: 60, startMs: MIDNIGHT, durationMs: DAY })).not.toEqual(day);
  });

  it("gives no glances to a run at night", () => {
    expect(glancePattern({ seed: 1, perDay: 60, startMs: MIDNIGHT, durationMs: 7 * HOUR })).toEqual([]);
  });

  it("gives a run its share of the waking hours: 07:00–15:00 gets half of perDay", () => {
    const half = glancePattern({ seed: 1, perDay: 60, startMs: MIDNIGHT + 7 * HOUR, durationMs: 8 * HOUR });
    expect(half).toHaveLength(30);
  });

  it("splits a day starting at noon between the afternoon and the next morning: 11 h → 41, 5 h → 19", () => {
    const noon = MIDNIGHT + 12 * HOUR;
    const glances = glancePattern({ seed: 5, perDay: 60, startMs: noon, durationMs: DAY });
    expect(glances).toHaveLength(60);
    // 60 × 11/16 = 41.25 → 41 on the first day, the other 19 on the next morning.
    expect(glances.filter((g) => g.startMs < MIDNIGHT + DAY)).toHaveLength(41);
    for (const g of glances) expect(g.startMs).toBeGreaterThanOrEqual(noon);
  });

  it("gives 2 × perDay over two days", () => {
    expect(glancePattern({ seed: 1, perDay: 60, startMs: MIDNIGHT, durationMs: 2 * DAY })).toHaveLength(120);
  });

  it("gives nothing for a rate of zero", () => {
    expect(glancePattern({ seed: 1, perDay: 0, startMs: MIDNIGHT, durationMs: DAY })).toEqual([]);
  });

  it("fits the most glances a day allows into the waking hours without overlap", () => {
    const full = glancePattern({ seed: 9, perDay: MAX_GLANCES_PER_DAY, startMs: MIDNIGHT, durationMs: DAY });
    expect(full).toHaveLength(MAX_GLANCES_PER_DAY);
    const tooClose = full.filter((g, i) => i > 0 && g.startMs < full[i - 1]!.endMs + GLANCE_GAP_MS);
    expect(tooClose).toEqual([]);
    expect(hourOfDay(full.at(-1)!.endMs - 1)).toBeLessThan(23);
  });

  it("rejects a negative, non-numeric or impossible rate", () => {
    expect(() => glancePattern({ seed: 1, perDay: -1, startMs: MIDNIGHT, durationMs: DAY })).toThrow(/perDay/);
    expect(() => glancePattern({ seed: 1, perDay: Number.NaN, startMs: MIDNIGHT, durationMs: DAY })).toThrow(/perDay/);
    expect(() => glancePattern({ seed: 1, perDay: MAX_GLANCES_PER_DAY + 1, startMs: MIDNIGHT, durationMs: DAY })).toThrow(/perDay/);
  });
});

describe("parseGlanceRate", () => {
  it("reads a rate per day", () => {
    expect(parseGlanceRate("60/day")).toBe(60);
    expect(parseGlanceRate("60/d")).toBe(60);
    expect(parseGlanceRate("0/day")).toBe(0);
  });

  it("turns a rate per hour into one per day", () => {
    expect(parseGlanceRate("4/h")).toBe(96);
    expect(parseGlanceRate("1.5/hour")).toBe(36);
  });

  it("tolerates spaces around the number and the slash", () => {
    expect(parseGlanceRate(" 60 / day ")).toBe(60);
  });

  it("names the text it cannot read and shows the expected form", () => {
    expect(() => parseGlanceRate("60")).toThrow(/"60" is not a glance rate.*60\/day or 4\/h/);
    expect(() => parseGlanceRate("60/week")).toThrow(/"60\/week"/);
    expect(() => parseGlanceRate("-1/day")).toThrow(/"-1\/day"/);
    expect(() => parseGlanceRate("often")).toThrow(/"often"/);
  });

  it("rejects more glances than fit into the waking hours", () => {
    expect(() => parseGlanceRate("1000/h")).toThrow(/24000 glances a day; at most 5236/);
  });
});

describe("isLooking", () => {
  const glances: Glance[] = [
    { startMs: 1000, endMs: 2000 },
    { startMs: 5000, endMs: 8000 },
    { startMs: 9000, endMs: 9500 },
  ];

  it("is true from a glance's start up to, not including, its end", () => {
    expect(isLooking(glances, 1000)).toBe(true);
    expect(isLooking(glances, 1999)).toBe(true);
    expect(isLooking(glances, 2000)).toBe(false);
    expect(isLooking(glances, 7999)).toBe(true);
    expect(isLooking(glances, 9000)).toBe(true);
  });

  it("is false before the first glance, between glances and after the last", () => {
    expect(isLooking(glances, 0)).toBe(false);
    expect(isLooking(glances, 3000)).toBe(false);
    expect(isLooking(glances, 8500)).toBe(false);
    expect(isLooking(glances, 10_000)).toBe(false);
  });

  it("is false without glances", () => {
    expect(isLooking([], 0)).toBe(false);
  });

  it("agrees with a linear scan over a generated day", () => {
    const day = glancePattern({ seed: 4, perDay: 200, startMs: MIDNIGHT, durationMs: DAY });
    const disagreements: number[] = [];
    for (let at = MIDNIGHT; at < MIDNIGHT + DAY; at += 997) {
      if (isLooking(day, at) !== day.some((g) => g.startMs <= at && at < g.endMs)) disagreements.push(at);
    }
    expect(disagreements).toEqual([]);
  });
});

describe("screenOnMs", () => {
  it("adds up the glances", () => {
    expect(screenOnMs([{ startMs: 0, endMs: 5000 }, { startMs: 10_000, endMs: 17_500 }])).toBe(12_500);
  });

  it("counts overlapping glances once", () => {
    expect(screenOnMs([{ startMs: 0, endMs: 5000 }, { startMs: 3000, endMs: 6000 }])).toBe(6000);
  });

  it("is zero without glances", () => {
    expect(screenOnMs([])).toBe(0);
  });
});

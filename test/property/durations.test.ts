import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../src/domain/duration.js";
import { anyString, stringOf } from "./arbitraries.js";
import { checkProperty } from "./property.js";

const UNITS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const unit = fc.constantFrom(...(Object.keys(UNITS) as Array<keyof typeof UNITS>));

describe("parseDuration", () => {
  it("never throws; returns undefined or a whole, finite, non-negative number of ms", () => {
    const durationLike = fc
      .tuple(stringOf([..."0123456789.-+e "], 0, 30), fc.constantFrom("", "ms", "s", "m", "h", "d", "S", "MS", "sec", "µs", "d\n", "m\u0000"))
      .map(([number, suffix]) => `${number}${suffix}`);
    checkProperty(
      "parseDuration never throws on any string",
      fc.property(fc.oneof(anyString(), durationLike), (text) => {
        const ms = parseDuration(text);
        if (ms !== undefined) expect(Number.isInteger(ms) && ms >= 0).toBe(true);
      }),
      2_000,
    );
  });

  it("reads <whole number><unit> exactly, with blanks around it", () => {
    checkProperty(
      "parseDuration reads whole numbers of each unit",
      fc.property(fc.integer({ min: 0, max: 100_000_000 }), unit, fc.constantFrom("", " ", "\t", "\n"), (n, u, blank) => {
        expect(parseDuration(`${blank}${n}${u}${blank}`)).toBe(n * UNITS[u]);
      }),
      3_000,
    );
  });

  it("reads decimals to the nearest ms", () => {
    checkProperty(
      "parseDuration reads decimals to the nearest ms",
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 999 }), unit, (whole, thousandths, u) => {
        const text = `${whole}.${String(thousandths).padStart(3, "0")}${u}`;
        expect(parseDuration(text)).toBe(Math.round(Number(`${whole}.${String(thousandths).padStart(3, "0")}`) * UNITS[u]));
      }),
      3_000,
    );
  });

  it("refuses a sign, an exponent, a missing number or unit, and unknown units", () => {
    const malformed = fc.oneof(
      fc.tuple(fc.constantFrom("-", "+", "."), fc.nat(), unit).map(([sign, n, u]) => `${sign}${n}${u}`),
      fc.tuple(fc.nat(), fc.constantFrom("e3", "e-3", "E2"), unit).map(([n, e, u]) => `${n}${e}${u}`),
      fc.nat().map(String),
      unit.map((u) => u as string),
      fc.tuple(fc.nat(), fc.constantFrom("sec", "min", "w", "y", "MS", "H", "µs", "s s")).map(([n, u]) => `${n}${u}`),
    );
    checkProperty(
      "parseDuration refuses malformed durations",
      fc.property(malformed, (text) => {
        expect(parseDuration(text)).toBeUndefined();
      }),
      3_000,
    );
  });

  it("reads back what formatDuration writes, within its rounding (a tenth of the unit shown)", () => {
    checkProperty(
      "formatDuration → parseDuration round trip",
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (ms) => {
        const text = formatDuration(ms);
        const back = parseDuration(text);
        expect(back, text).toBeDefined();
        const shown = UNITS[/[a-z]+$/.exec(text)![0] as keyof typeof UNITS];
        expect(Math.abs(back! - ms)).toBeLessThanOrEqual(shown === 1 ? 0 : shown * 0.05 + 1);
      }),
      5_000,
    );
  });
});

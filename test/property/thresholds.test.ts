import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { meets, METRICS, OPERATORS, parseThreshold, ThresholdError } from "../../src/bench/thresholds.js";
import { anyString, stringOf } from "./arbitraries.js";
import { checkProperty } from "./property.js";

/** The units a metric's limit may be written in, and what each is in the metric's own unit (issue 20's table). */
const UNITS_OF: Record<string, Record<string, number>> = {
  count: { "": 1 },
  flag: { "": 1 },
  rate: { "": 1 },
  ratio: { "": 1 },
  latency: { "": 1, ms: 1, s: 1_000 },
  cpu: { "": 1, "%": 1 },
  rss: { "": 1, MB: 1 },
};
const metric = fc.constantFrom(...Object.keys(METRICS));
const operator = fc.constantFrom(...OPERATORS);
const decimal = fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 1_000_000 }), fc.option(fc.integer({ min: 0, max: 999 }), { nil: undefined })).map(([negative, whole, fraction]) => `${negative ? "-" : ""}${whole}${fraction === undefined ? "" : `.${String(fraction).padStart(3, "0")}`}`);
const blank = fc.constantFrom("", " ", "  ", "\t");

describe("threshold expressions", () => {
  it("reads every metric, operator, value and accepted unit, with blanks around the operator", () => {
    checkProperty(
      "parseThreshold reads <metric><op><value>[unit]",
      fc.property(metric, operator, decimal, fc.nat(), blank, blank, (name, op, value, unitPick, before, after) => {
        const units = UNITS_OF[METRICS[name]!]!;
        const unit = Object.keys(units)[unitPick % Object.keys(units).length]!;
        const text = ` ${name}${before}${op}${after}${value}${unit} `;
        const threshold = parseThreshold(text);
        expect(threshold).toEqual({ expression: text.trim(), metric: name, operator: op, limit: Number(value) * units[unit]! });
      }),
      3_000,
    );
  });

  it("judges a measured value as its operator does", () => {
    const compare: Record<string, (a: number, b: number) => boolean> = { "<": (a, b) => a < b, "<=": (a, b) => a <= b, ">": (a, b) => a > b, ">=": (a, b) => a >= b, "==": (a, b) => a === b, "!=": (a, b) => a !== b };
    checkProperty(
      "meets(threshold, measured) is the operator applied",
      fc.property(operator, fc.integer({ min: -50, max: 50 }), fc.integer({ min: -50, max: 50 }), (op, limit, measured) => {
        expect(meets({ operator: op, limit }, measured)).toBe(compare[op]!(measured, limit));
      }),
      2_000,
    );
  });

  it("throws a ThresholdError or returns a known metric, never anything else, on any string", () => {
    const thresholdLike = fc
      .tuple(fc.oneof(metric, stringOf([..."abcdeps0129._"], 0, 12)), fc.constantFrom("", "<", "<=", "=", "==", "=<", "!", "!=", ">", "=>", "≤"), stringOf([..."0123456789.-e "], 0, 8), fc.constantFrom("", "ms", "s", "%", "MB", "us", "m", "GB", "mb"))
      .map((parts) => parts.join(""));
    checkProperty(
      "parseThreshold never throws anything but a ThresholdError",
      fc.property(fc.oneof(anyString(), thresholdLike), (text) => {
        try {
          const threshold = parseThreshold(text);
          expect(Object.keys(METRICS)).toContain(threshold.metric);
          expect(Number.isFinite(threshold.limit)).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(ThresholdError);
          // A wrong metric or shape lists the valid metrics; a wrong unit of a valid one names its units.
          expect((err as Error).message).toMatch(/Valid metrics: | takes /);
        }
      }),
      3_000,
    );
  });

  it.each([
    ["", "is not a threshold"],
    ["e2e.p99", "is not a threshold"],
    ["e2e.p99<", "is not a threshold"],
    ["e2e.p99=5", "is not a threshold"],
    ["e2e.p99=<5", "is not a threshold"],
    ["e2e.p99<five", "is not a threshold"],
    ["e2e.p99<5 s s", "is not a threshold"],
    ["p99<250", 'no metric "p99"'],
    ["e2e.p95<250ms", 'no metric "e2e.p95"'],
    ["cpu.postgres<50%", 'no metric "cpu.postgres"'],
    ["E2E.P99<5", 'no metric "E2E.P99"'],
    ["p(95)<500", 'no metric "p(95)"'],
  ])("rejects %j (%s) and names the valid metrics", (text, message) => {
    expect(() => parseThreshold(text)).toThrow(ThresholdError);
    expect(() => parseThreshold(text)).toThrow(message);
    expect(() => parseThreshold(text)).toThrow(/Valid metrics: lost, totals, behind, rate, ratio, e2e\.p50.*rss\.bench\./);
  });

  it.each([
    ["e2e.p99<5%", "e2e.p99 takes ms or s, not %"],
    ["lost<5ms", "lost takes no unit, not ms"],
    ["cpu.aggregator<200MB", "cpu.aggregator takes %, not MB"],
    ["rss.api<50%", "rss.api takes MB, not %"],
  ])("rejects %j: a unit the metric does not take", (text, message) => {
    expect(() => parseThreshold(text)).toThrow(message);
  });

  it("reads seconds as ms, and a bare latency as ms", () => {
    expect(parseThreshold("e2e.p99<0.25s").limit).toBe(250);
    expect(parseThreshold("sse.p50 <= 40").limit).toBe(40);
  });
});

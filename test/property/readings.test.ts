import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { aggregateFromJson } from "../../src/domain/aggregate.js";
import { COMMUNITY_METER_ID } from "../../src/domain/ids.js";
import { MAX_AHEAD_MS, MAX_WATTS, aheadProblem, parseCommunityReading, parseJson, parseMeterReading, parseTimestamp } from "../../src/domain/reading.js";
import { anyJson, anyString, invalidIdString, invalidWatts, nonString, validId, validMeterReading, validTimestamp, validWatts } from "./arbitraries.js";
import { checkProperty } from "./property.js";

const METER_FIELDS = ["meterId", "communityId", "genW", "conW", "measuredAt", "seq"] as const;
type MeterField = (typeof METER_FIELDS)[number];

/** A value the named field must refuse (undefined: the field is left out). */
const badValueOf: Record<MeterField, () => fc.Arbitrary<unknown>> = {
  meterId: () => fc.oneof(invalidIdString(), nonString(), fc.constant(COMMUNITY_METER_ID)),
  communityId: () => fc.oneof(invalidIdString(), nonString()),
  genW: invalidWatts,
  conW: invalidWatts,
  measuredAt: () =>
    fc.oneof(
      anyString().filter((s) => parseTimestamp(s) === undefined),
      // Near misses: a valid timestamp with one character changed, dropped or added.
      fc.tuple(validTimestamp(), fc.nat(), fc.constantFrom("", "x", "9", " ", "\n", "+", "Z", "T", "-", ":")).map(([t, at, c]) => {
        const i = at % t.text.length;
        return `${t.text.slice(0, i)}${c}${t.text.slice(i + 1)}`;
      }).filter((s) => parseTimestamp(s) === undefined),
      fc.constantFrom("2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T12:60:00Z", "2026-11-22T12:00:60Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-11-00T00:00:00Z", "2100-02-29T00:00:00Z", "2026-11-22T12:00:00", "2026-11-22 12:00:00Z", "1795348800000", "now"),
      nonString(),
    ),
  seq: () => fc.oneof(fc.integer({ max: -1 }), fc.constantFrom(-1, -0.5, 0.5), fc.double({ noInteger: true }), fc.constantFrom(Number.MAX_SAFE_INTEGER + 1, 2 ** 64, Number.NaN, Number.POSITIVE_INFINITY), fc.constantFrom("1", null, undefined, true), fc.object({ maxDepth: 1 })),
};

describe("parseMeterReading", () => {
  it("never throws, whatever the body; refusals are sentences", () => {
    checkProperty(
      "parseMeterReading never throws on any value",
      fc.property(fc.oneof(anyJson(), fc.anything()), (body) => {
        const parsed = parseMeterReading(body);
        if (!parsed.ok) expect(parsed.error).toMatch(/^(the body|meterId|communityId|genW|conW|measuredAt|seq)\b/);
      }),
      3_000,
    );
  });

  it("accepts every valid reading, with whole watts within 0…1 GW and its fields unchanged", () => {
    checkProperty(
      "parseMeterReading accepts valid readings",
      fc.property(validMeterReading(), fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }), (reading, extra) => {
        const parsed = parseMeterReading({ ...extra, ...reading });
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        const { value } = parsed;
        expect(value).toEqual({ ...reading, genW: Math.round(reading.genW), conW: Math.round(reading.conW) });
        for (const watts of [value.genW, value.conW]) {
          expect(Number.isInteger(watts) && watts >= 0 && watts <= MAX_WATTS).toBe(true);
        }
        // What is accepted once is accepted again unchanged (the aggregator re-reads what the edge wrote).
        expect(parseMeterReading(JSON.parse(JSON.stringify(value)))).toEqual({ ok: true, value: { ...value, genW: value.genW + 0, conW: value.conW + 0 } });
      }),
      2_000,
    );
  });

  it("refuses a reading with one bad field, naming that field", () => {
    const readings = validMeterReading();
    const oneBadField = fc.oneof(...METER_FIELDS.map((field) => fc.tuple(fc.constant(field), readings, badValueOf[field]())));
    checkProperty(
      "parseMeterReading names the one bad field",
      fc.property(oneBadField, ([field, reading, bad]) => {
        const body: Record<string, unknown> = { ...reading, [field]: bad };
        if (bad === undefined) delete body[field];
        const parsed = parseMeterReading(body);
        expect(parsed.ok).toBe(false);
        if (!parsed.ok) expect(parsed.error.startsWith(`${field} `)).toBe(true);
      }),
      2_000,
    );
  });
});

describe("parseCommunityReading", () => {
  const validCommunityReading = () => fc.record({ communityId: validId(), genW: validWatts(), conW: validWatts(), measuredAt: validTimestamp().map((t) => t.text) });

  it("never throws, whatever the body", () => {
    checkProperty(
      "parseCommunityReading never throws on any value",
      fc.property(fc.oneof(anyJson(), fc.anything()), fc.option(anyString()), (body, fallback) => {
        const parsed = parseCommunityReading(body, fallback ?? undefined);
        if (!parsed.ok) expect(parsed.error).toMatch(/^(the body|communityId|genW|conW|measuredAt)\b/);
      }),
      3_000,
    );
  });

  it("accepts every valid reading, and stamps one without measuredAt with the default", () => {
    checkProperty(
      "parseCommunityReading accepts valid readings",
      fc.property(validCommunityReading(), fc.boolean(), validTimestamp(), (reading, stamped, arrival) => {
        const body: Record<string, unknown> = { ...reading };
        if (stamped) delete body.measuredAt;
        const parsed = parseCommunityReading(body, arrival.text);
        expect(parsed).toEqual({
          ok: true,
          value: { ...reading, genW: Math.round(reading.genW), conW: Math.round(reading.conW), measuredAt: stamped ? arrival.text : reading.measuredAt },
        });
      }),
      3_000,
    );
  });

  it("refuses a reading with one bad field, naming that field", () => {
    const fields = ["communityId", "genW", "conW", "measuredAt"] as const;
    const readings = validCommunityReading();
    const oneBadField = fc.oneof(...fields.map((field) => fc.tuple(fc.constant(field), readings, badValueOf[field]())));
    checkProperty(
      "parseCommunityReading names the one bad field",
      fc.property(oneBadField, ([field, reading, bad]) => {
        const body: Record<string, unknown> = { ...reading, [field]: bad };
        if (bad === undefined) delete body[field];
        // No default timestamp: the bus edge requires one.
        const parsed = parseCommunityReading(body);
        expect(parsed.ok).toBe(false);
        if (!parsed.ok) expect(parsed.error.startsWith(`${field} `)).toBe(true);
      }),
      2_000,
    );
  });
});

describe("parseTimestamp", () => {
  it("never throws, and returns a finite instant or undefined", () => {
    checkProperty(
      "parseTimestamp never throws on any value",
      fc.property(fc.oneof(anyString(), fc.anything(), fc.stringMatching(/^[0-9+-]{4,7}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,12})?)?(Z|[+-]\d\d:?\d\d)?$/)), (value) => {
        const ms = parseTimestamp(value);
        if (ms !== undefined) expect(Number.isFinite(ms)).toBe(true);
      }),
      5_000,
    );
  });

  it("reads every valid date and time, in each documented form, to the instant it names", () => {
    checkProperty(
      "parseTimestamp reads valid timestamps exactly",
      fc.property(validTimestamp(), ({ text, ms }) => {
        expect(parseTimestamp(text)).toBe(ms);
      }),
      10_000,
    );
  });

  it("reads back what toISOString writes, for every instant of years 0000-9999", () => {
    checkProperty(
      "parseTimestamp round-trips toISOString",
      fc.property(fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }), (ms) => {
        expect(parseTimestamp(new Date(ms).toISOString())).toBe(ms);
      }),
      5_000,
    );
  });

  it("refuses a day, hour, minute or second that does not exist", () => {
    const impossible = fc
      .tuple(validTimestamp(), fc.constantFrom("month", "day", "hour", "minute", "second"), fc.integer({ min: 0, max: 40 }))
      .map(([{ text }, field, extra]) => {
        const [date, time] = text.split("T") as [string, string];
        const [year, month] = date.split("-").map(Number) as [number, number];
        const dim = new Date(Date.UTC(2001, month, 0)).getUTCDate() + (month === 2 ? 1 : 0);
        const value = { month: 13 + extra, day: dim + 1 + extra, hour: 24 + extra, minute: 60 + extra, second: 60 + extra }[field];
        const two = String(Math.min(value, 99)).padStart(2, "0");
        if (field === "month") return `${String(year).padStart(4, "0")}-${two}-01T${time}`;
        if (field === "day") return `${date.slice(0, 8)}${two}T${time}`;
        if (field === "hour") return `${date}T${two}${time.slice(2)}`;
        if (field === "minute") return `${date}T${time.slice(0, 3)}${two}${time.slice(5)}`;
        return `${date}T${time.slice(0, 5)}:${two}Z`;
      });
    checkProperty(
      "parseTimestamp refuses impossible dates and times",
      fc.property(impossible, (text) => {
        expect(parseTimestamp(text)).toBeUndefined();
      }),
      5_000,
    );
  });
});

describe("aheadProblem", () => {
  it("refuses exactly the readings more than 5 minutes ahead, naming measuredAt", () => {
    checkProperty(
      "aheadProblem refuses only readings more than 5 min ahead",
      fc.property(validTimestamp(), fc.integer({ min: -10 * MAX_AHEAD_MS, max: 10 * MAX_AHEAD_MS }), ({ text, ms }, aheadBy) => {
        const problem = aheadProblem(text, ms - aheadBy);
        if (aheadBy > MAX_AHEAD_MS) expect(problem).toMatch(/^measuredAt /);
        else expect(problem).toBeUndefined();
      }),
      3_000,
    );
  });
});

describe("parseJson and aggregateFromJson", () => {
  it("parseJson never throws and round-trips any JSON", () => {
    checkProperty(
      "parseJson never throws; JSON round-trips",
      fc.property(fc.oneof(anyString(200), fc.json({ maxDepth: 4 })), (text) => {
        const parsed = parseJson(text);
        let expected: unknown;
        try {
          expected = JSON.parse(text);
        } catch {
          expect(parsed).toEqual({ ok: false, error: "the body is not valid JSON" });
          return;
        }
        expect(parsed).toEqual({ ok: true, value: expected });
      }),
      3_000,
    );
  });

  it("aggregateFromJson never throws, and what it returns has the documented types", () => {
    const aggregateLike = fc.record(
      { communityId: fc.oneof(validId(), nonString()), genW: fc.oneof(fc.double(), nonString()), conW: fc.oneof(fc.double(), nonString()), netW: fc.oneof(fc.double(), nonString()), meters: fc.oneof(fc.nat(), nonString()), stale: fc.oneof(fc.nat(), nonString()), measuredAt: fc.oneof(fc.string(), nonString()), aggregatedAt: fc.oneof(fc.string(), nonString()), version: fc.oneof(fc.nat(), nonString()) },
      { requiredKeys: [] },
    );
    checkProperty(
      "aggregateFromJson never throws; typed result",
      fc.property(fc.oneof(anyString(200), fc.json({ maxDepth: 3 }), aggregateLike.map((a) => JSON.stringify(a, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)))), (text) => {
        const aggregate = aggregateFromJson(text);
        if (aggregate === undefined) return;
        for (const key of ["genW", "conW", "netW", "meters", "stale", "version"] as const) expect(typeof aggregate[key]).toBe("number");
        for (const key of ["communityId", "measuredAt", "aggregatedAt"] as const) expect(typeof aggregate[key]).toBe("string");
      }),
      3_000,
    );
  });
});

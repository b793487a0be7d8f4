import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { MAX_WATTS, parseCommunityReading, parseJson, parseMeterReading, parseTimestamp } from "../../src/domain/reading.js";
import { checkProperty } from "../property/property.js";

const meterReading = {
  meterId: "meter001",
  communityId: "community1",
  genW: 1200,
  conW: 300,
  measuredAt: "2026-11-22T12:00:00Z",
  seq: 1_795_348_800_000,
};

const communityReading = { communityId: "community1", genW: 5200, conW: 3100, measuredAt: "2026-11-22T12:00:00Z" };

function meterError(patch: Record<string, unknown>): string {
  const parsed = parseMeterReading({ ...meterReading, ...patch });
  if (parsed.ok) throw new Error(`expected ${JSON.stringify(patch)} to be rejected`);
  return parsed.error;
}

function communityError(patch: Record<string, unknown>): string {
  const parsed = parseCommunityReading({ ...communityReading, ...patch });
  if (parsed.ok) throw new Error(`expected ${JSON.stringify(patch)} to be rejected`);
  return parsed.error;
}

describe("parseMeterReading", () => {
  it("accepts a valid reading unchanged", () => {
    expect(parseMeterReading(meterReading)).toEqual({ ok: true, value: meterReading });
  });

  it("rounds watts to whole watts", () => {
    const parsed = parseMeterReading({ ...meterReading, genW: 1200.5, conW: 299.4 });
    expect(parsed).toEqual({ ok: true, value: { ...meterReading, genW: 1201, conW: 299 } });
  });

  it("accepts zero watts and MAX_WATTS", () => {
    expect(parseMeterReading({ ...meterReading, genW: 0, conW: MAX_WATTS }).ok).toBe(true);
  });

  it("drops fields that are not part of a reading", () => {
    const parsed = parseMeterReading({ ...meterReading, extra: "x" });
    expect(parsed.ok && Object.keys(parsed.value).sort()).toEqual(["communityId", "conW", "genW", "measuredAt", "meterId", "seq"]);
  });

  it.each([
    ["meterId", { meterId: undefined }],
    ["meterId", { meterId: "a.b" }],
    ["meterId", { meterId: 5 }],
    ["communityId", { communityId: undefined }],
    ["communityId", { communityId: "c>" }],
    ["genW", { genW: undefined }],
    ["genW", { genW: "1200" }],
    ["genW", { genW: Number.NaN }],
    ["genW", { genW: Number.POSITIVE_INFINITY }],
    ["genW", { genW: -1 }],
    ["conW", { conW: -0.5 }],
    ["conW", { conW: MAX_WATTS + 1 }],
    ["conW", { conW: null }],
    ["measuredAt", { measuredAt: undefined }],
    ["measuredAt", { measuredAt: "2026-11-22T12:00:00" }],
    ["measuredAt", { measuredAt: "yesterday" }],
    ["measuredAt", { measuredAt: 1_795_348_800_000 }],
    ["seq", { seq: undefined }],
    ["seq", { seq: -1 }],
    ["seq", { seq: 1.5 }],
    ["seq", { seq: "7" }],
    ["seq", { seq: 2 ** 53 }],
  ])("names the field %s in the error for %j", (field, patch) => {
    expect(meterError(patch)).toMatch(new RegExp(`^${field} `));
  });

  it("says what is wrong with a negative power", () => {
    expect(meterError({ genW: -1 })).toBe("genW must not be negative");
  });

  it("says how large a power may be", () => {
    expect(meterError({ conW: MAX_WATTS + 1 })).toBe("conW must be at most 1000000000 W");
  });

  it("reserves the meter id _community for community-level readings", () => {
    expect(meterError({ meterId: "_community" })).toBe("meterId _community is reserved for community-level readings");
  });

  it("requires a time zone in measuredAt and shows an example", () => {
    expect(meterError({ measuredAt: "2026-11-22T12:00:00" })).toBe(
      "measuredAt must be an ISO-8601 timestamp with a time zone, e.g. 2026-11-22T12:00:00Z",
    );
  });

  it.each([null, [], "text", 42])("rejects %j, which is not a JSON object", (body) => {
    expect(parseMeterReading(body)).toEqual({ ok: false, error: "the body must be a JSON object" });
  });
});

describe("parseCommunityReading", () => {
  it("accepts the prototype's reading", () => {
    expect(parseCommunityReading(communityReading)).toEqual({ ok: true, value: communityReading });
  });

  it("rounds watts to whole watts", () => {
    const parsed = parseCommunityReading({ ...communityReading, genW: 0.5, conW: 3100.49 });
    expect(parsed.ok && [parsed.value.genW, parsed.value.conW]).toEqual([1, 3100]);
  });

  it("fills a missing measuredAt from the default the HTTP edge passes", () => {
    const { measuredAt: _, ...withoutTime } = communityReading;
    const parsed = parseCommunityReading(withoutTime, "2026-11-22T13:00:00.000Z");
    expect(parsed.ok && parsed.value.measuredAt).toBe("2026-11-22T13:00:00.000Z");
  });

  it("keeps a given measuredAt over the default", () => {
    const parsed = parseCommunityReading(communityReading, "2026-11-22T13:00:00.000Z");
    expect(parsed.ok && parsed.value.measuredAt).toBe("2026-11-22T12:00:00Z");
  });

  it("requires measuredAt when there is no default", () => {
    const { measuredAt: _, ...withoutTime } = communityReading;
    expect(parseCommunityReading(withoutTime)).toEqual({ ok: false, error: "measuredAt is required" });
  });

  it.each([
    ["communityId", { communityId: "" }],
    ["communityId", { communityId: "a b" }],
    ["genW", { genW: -5 }],
    ["conW", { conW: "3100" }],
    ["measuredAt", { measuredAt: "2026-11-22 12:00:00Z" }],
  ])("names the field %s in the error for %j", (field, patch) => {
    expect(communityError(patch)).toMatch(new RegExp(`^${field} `));
  });
});

describe("parseTimestamp", () => {
  it("reads UTC and offset timestamps to the same instant", () => {
    expect(parseTimestamp("2026-11-22T12:00:00Z")).toBe(Date.UTC(2026, 10, 22, 12));
    expect(parseTimestamp("2026-11-22T13:00:00+01:00")).toBe(Date.UTC(2026, 10, 22, 12));
    expect(parseTimestamp("2026-11-22T13:00:00+0100")).toBe(Date.UTC(2026, 10, 22, 12));
  });

  it("keeps milliseconds", () => {
    expect(parseTimestamp("2026-11-22T12:00:00.250Z")).toBe(Date.UTC(2026, 10, 22, 12, 0, 0, 250));
  });

  it.each(["2026-11-22T12:00:00", "2026-11-22", "2026-13-01T00:00:00Z", "2026-11-22T25:00:00Z", "Sun, 22 Nov 2026 12:00:00 GMT"])(
    "rejects %j",
    (text) => {
      expect(parseTimestamp(text)).toBeUndefined();
    },
  );

  it("rejects a number of milliseconds", () => {
    expect(parseTimestamp(1_795_348_800_000)).toBeUndefined();
  });
});

describe("parseJson", () => {
  it("parses valid JSON", () => {
    expect(parseJson('{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
  });

  it("reports invalid JSON without throwing", () => {
    expect(parseJson("{nope")).toEqual({ ok: false, error: "the body is not valid JSON" });
  });
});

describe("impossible calendar dates", () => {
  it.each(["2026-02-30T12:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T12:60:00Z"])(
    "%s is not a timestamp",
    (text) => {
      expect(parseTimestamp(text)).toBeUndefined();
    },
  );

  it("accepts February 29th in a leap year only", () => {
    expect(parseTimestamp("2028-02-29T00:00:00Z")).toBe(Date.UTC(2028, 1, 29));
    expect(parseTimestamp("2026-02-29T00:00:00Z")).toBeUndefined();
    // Centuries are leap years only every 400 years; the year 0000 is one.
    expect(parseTimestamp("1900-02-29T00:00:00Z")).toBeUndefined();
    expect(parseTimestamp("2000-02-29T00:00:00Z")).toBe(Date.UTC(2000, 1, 29));
    expect(parseTimestamp("0000-02-29T00:00:00Z")).toBe(Date.parse("0000-02-29T00:00:00Z"));
  });

  it("takes a day as valid exactly when Date does not roll it into the next month, any year", () => {
    checkProperty(
      "calendar days",
      fc.property(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }), (year, month, day) => {
        const text = `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}T06:30:00Z`;
        const date = new Date(0);
        date.setUTCFullYear(year, month - 1, day);
        const exists = date.getUTCMonth() === month - 1;
        expect(parseTimestamp(text)).toBe(exists ? Date.parse(text) : undefined);
      }),
      5_000,
    );
  });

  it("answers a repeated timestamp as the first time, valid or not", () => {
    for (const text of ["2026-02-30T12:00:00Z", "2026-02-30T12:00:00Z", "2026-11-22T12:00:00Z", "2026-11-22T12:00:00Z", "2026-02-30T12:00:00Z"]) {
      expect(parseTimestamp(text)).toBe(text.startsWith("2026-02-30") ? undefined : Date.UTC(2026, 10, 22, 12));
    }
  });
});

import { describe, expect, it } from "vitest";
import type { HistoryBucket } from "../../src/energy/buckets.js";
import { BUCKET_FIELDS, MAX_BUCKETS, bucketCount, bucketJson, parseHistoryQuery, parseKpiQuery, parseTime, toCsv } from "../../src/energy/history-query.js";

const NOW = Date.UTC(2026, 10, 22, 12, 34, 56);
const query = (text: string) => parseHistoryQuery(new URLSearchParams(text), NOW);
const errorOf = (result: { ok: boolean; error?: string }) => (result.ok ? undefined : result.error);

describe("parseTime", () => {
  it.each([
    ["now", NOW],
    ["-24h", NOW - 86_400_000],
    ["-90m", NOW - 90 * 60_000],
    ["-7d", NOW - 7 * 86_400_000],
    ["-30s", NOW - 30_000],
    ["2026-11-21T00:00:00Z", Date.UTC(2026, 10, 21)],
    ["2026-11-21T01:00:00+01:00", Date.UTC(2026, 10, 21)],
  ])("reads %s", (text, ms) => {
    expect(parseTime(text, NOW)).toBe(ms);
  });

  it.each(["yesterday", "24h", "-24", "--1h", "-1w", "2026-11-21", "2026-11-21T00:00:00", "2026-02-30T00:00:00Z", ""])("refuses %j", (text) => {
    expect(parseTime(text, NOW)).toBeUndefined();
  });
});

describe("parseHistoryQuery", () => {
  it("defaults to the last 24 hours in quarter hours, UTC", () => {
    expect(query("")).toEqual({ ok: true, value: { fromMs: NOW - 86_400_000, toMs: NOW, step: "15m", timeZone: "UTC" } });
  });

  it("takes every step, and a time zone", () => {
    for (const step of ["1m", "15m", "1h", "1d"]) expect(query(`step=${step}&from=-1d&tz=Europe/Berlin`)).toMatchObject({ ok: true, value: { step, timeZone: "Europe/Berlin" } });
  });

  it.each([
    ["step=5m", "step must be one of 1m, 15m, 1h, 1d"],
    ["step=", "step is empty"],
    ["from=tomorrow", "from must be ISO-8601"],
    ["to=later", "to must be ISO-8601"],
    ["from=now", "to (2026-11-22T12:34:56.000Z) must be later than from"],
    ["tz=Europe/Atlantis", "tz must be an IANA time zone"],
    ["limit=10", 'unknown parameter "limit"'],
    ["from=-1d&from=-2d", "from is given 2 times"],
    ["from=-367d&step=1d", "span more than 366 days"],
  ])("refuses ?%s: %s", (text, error) => {
    expect(errorOf(query(text))).toContain(error);
  });

  it(`allows at most ${MAX_BUCKETS} buckets: 7 days of minutes, 105 of quarter hours`, () => {
    expect(query("from=-7d&step=1m").ok).toBe(true);
    expect(errorOf(query("from=-8d&step=1m"))).toBe("step 1m over from…to gives up to 11520 buckets, more than 10080: at step 1m ask for at most 7 days, or choose a longer step");
    expect(query("from=-105d&step=15m").ok).toBe(true);
    expect(errorOf(query("from=-106d&step=15m"))).toContain("at step 15m ask for at most 105 days");
    expect(query("from=-366d&step=1h").ok).toBe(true);
    expect(query("from=-366d&step=1d").ok).toBe(true);
  });

  it("counts buckets at the shortest length of a step (a 23-hour day)", () => {
    expect(bucketCount(0, 86_400_000, "1d")).toBe(2);
    expect(bucketCount(0, 3_600_000, "15m")).toBe(4);
    expect(bucketCount(0, 3_600_001, "15m")).toBe(5);
  });
});

describe("parseKpiQuery", () => {
  it("defaults to today in UTC", () => {
    expect(parseKpiQuery(new URLSearchParams())).toEqual({ ok: true, value: { period: "today", timeZone: "UTC" } });
  });

  it.each(["today", "24h", "7d"])("takes period=%s", (period) => {
    expect(parseKpiQuery(new URLSearchParams({ period, tz: "America/New_York" }))).toEqual({ ok: true, value: { period, timeZone: "America/New_York" } });
  });

  it.each([
    ["period=week", "period must be one of today, 24h, 7d"],
    ["tz=+01:00", "tz must be an IANA time zone"],
    ["step=1h", 'unknown parameter "step"'],
  ])("refuses ?%s", (text, error) => {
    expect(errorOf(parseKpiQuery(new URLSearchParams(text)))).toContain(error);
  });
});

describe("CSV", () => {
  const bucket: HistoryBucket = {
    startMs: Date.UTC(2026, 0, 10),
    endMs: Date.UTC(2026, 0, 10, 0, 15),
    genWh: 160,
    conWh: 70,
    importWh: 70,
    exportWh: 160,
    sharedWh: 70,
    gridImportWh: 0,
    gridExportWh: 90,
    selfSufficiency: 1,
    selfConsumption: null,
    complete: false,
    late: 2,
  };

  it("is a header and a line per bucket, null as an empty field, CRLF line ends", () => {
    expect(toCsv([bucketJson(bucket)], BUCKET_FIELDS)).toBe(
      "start,end,genWh,conWh,importWh,exportWh,sharedWh,gridImportWh,gridExportWh,selfSufficiency,selfConsumption,complete,late\r\n" +
        "2026-01-10T00:00:00.000Z,2026-01-10T00:15:00.000Z,160,70,70,160,70,0,90,1,,false,2\r\n",
    );
  });

  it("quotes fields with commas, quotes or line breaks (RFC 4180)", () => {
    expect(toCsv([{ a: 'say "hi"', b: "x,y", c: "1\n2" }], ["a", "b", "c"])).toBe('a,b,c\r\n"say ""hi""","x,y","1\n2"\r\n');
  });

  it("of no rows is the header alone", () => {
    expect(toCsv([], BUCKET_FIELDS)).toBe(`${BUCKET_FIELDS.join(",")}\r\n`);
  });
});

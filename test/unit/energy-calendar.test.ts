import { describe, expect, it } from "vitest";
import { rollUp } from "../../src/energy/buckets.js";
import { daysIn, hoursIn } from "../../src/energy/calendar.js";
import { integrateReadings } from "../helpers/energy.js";
import { localTime } from "../../src/domain/local-time.js";

const HOUR = 3_600_000;
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
const at = (text: string) => Date.parse(text);

/** A meter using 1 kW, a reading every minute, over [fromMs, toMs]. */
function oneKilowatt(fromMs: number, toMs: number) {
  const readings = [];
  for (let t = fromMs; t <= toMs; t += MIN) readings.push({ genW: 0, conW: 1000, measuredAtMs: t });
  return integrateReadings(readings, MIN);
}

describe("daysIn", () => {
  it("has 24-hour days in UTC", () => {
    const day = daysIn("UTC")(at("2026-03-29T12:34:00Z"));
    expect([iso(day.startMs), iso(day.endMs)]).toEqual(["2026-03-29T00:00:00.000Z", "2026-03-30T00:00:00.000Z"]);
  });

  it("has a 23-hour day in Berlin when summer time starts", () => {
    const day = daysIn("Europe/Berlin")(at("2026-03-29T12:00:00Z"));
    expect([iso(day.startMs), iso(day.endMs)]).toEqual(["2026-03-28T23:00:00.000Z", "2026-03-29T22:00:00.000Z"]);
  });

  it("has a 25-hour day in Berlin when summer time ends, the same day early and late", () => {
    const days = daysIn("Europe/Berlin");
    const early = days(at("2026-10-24T22:30:00Z")); // 00:30 CEST
    const late = days(at("2026-10-25T22:59:00Z")); // 23:59 CET
    expect(late).toEqual(early);
    expect([iso(early.startMs), iso(early.endMs)]).toEqual(["2026-10-24T22:00:00.000Z", "2026-10-25T23:00:00.000Z"]);
  });

  it("starts each day of a year at the first minute of its local date, in zones that skip or repeat midnight too", () => {
    for (const zone of ["Europe/Berlin", "America/Havana", "America/Santiago", "Asia/Kolkata", "Pacific/Chatham"]) {
      const days = daysIn(zone);
      const localDate = (ms: number) => localTime(new Date(ms), zone).toISOString().slice(0, 10);
      for (let t = at("2026-01-01T12:00:00Z"); t < at("2027-01-01T00:00:00Z"); t += 24 * HOUR) {
        const { startMs, endMs } = days(t);
        expect(localDate(startMs), zone).toBe(localDate(t));
        expect(localDate(startMs - MIN), zone).not.toBe(localDate(t));
        expect(localDate(endMs), zone).not.toBe(localDate(t));
        expect(t >= startMs && t < endMs, zone).toBe(true);
      }
    }
  });
});

describe("hoursIn", () => {
  it("follows the zone's half-hour offset: hours in Kolkata start at :30 UTC", () => {
    const hour = hoursIn("Asia/Kolkata")(at("2026-06-21T10:10:00Z"));
    expect([iso(hour.startMs), iso(hour.endMs)]).toEqual(["2026-06-21T09:30:00.000Z", "2026-06-21T10:30:00.000Z"]);
  });

  it("gives the repeated hour of the end of summer time twice, an hour each", () => {
    const hours = hoursIn("Europe/Berlin");
    expect(iso(hours(at("2026-10-25T00:30:00Z")).startMs)).toBe("2026-10-25T00:00:00.000Z"); // 02:30 CEST
    expect(iso(hours(at("2026-10-25T01:30:00Z")).startMs)).toBe("2026-10-25T01:00:00.000Z"); // 02:30 CET
  });
});

describe("rolling up local days", () => {
  it("gives 23 kWh and 25 kWh for 1 kW over the days summer time starts and ends in Berlin", () => {
    const spring = rollUp(oneKilowatt(at("2026-03-28T23:00:00Z"), at("2026-03-29T22:00:00Z")), daysIn("Europe/Berlin"));
    expect(spring.map((d) => [iso(d.startMs), d.conWh])).toEqual([["2026-03-28T23:00:00.000Z", 23_000]]);
    const autumn = rollUp(oneKilowatt(at("2026-10-24T22:00:00Z"), at("2026-10-25T23:00:00Z")), daysIn("Europe/Berlin"));
    expect(autumn.map((d) => [iso(d.startMs), d.conWh])).toEqual([["2026-10-24T22:00:00.000Z", 25_000]]);
  });

  it("puts a UTC day's energy into two local days where the zone is ahead", () => {
    const days = rollUp(oneKilowatt(at("2026-06-21T00:00:00Z"), at("2026-06-22T00:00:00Z")), daysIn("Europe/Berlin"));
    expect(days.map((d) => [iso(d.startMs), d.conWh])).toEqual([
      ["2026-06-20T22:00:00.000Z", 22_000],
      ["2026-06-21T22:00:00.000Z", 2_000],
    ]);
  });
});

import { describe, expect, it } from "vitest";
import { MINUTES_PER_DAY, decodeDay, encodeDay, utcDayStart } from "../../src/energy/day-record.js";
import { type Energy, MINUTE_MS, powerOver } from "../../src/energy/meter-energy.js";

const DAY = Date.UTC(2026, 5, 21);

/** A busy community's full day: every minute has energy, up to 100 kW. */
function fullDay(): Map<number, Energy> {
  const minutes = new Map<number, Energy>();
  for (let i = 0; i < MINUTES_PER_DAY; i += 1) {
    const genW = Math.round(100_000 * Math.max(0, Math.sin((Math.PI * (i - 300)) / 900)));
    const conW = 40_000 + ((i * 7919) % 30_000);
    minutes.set(DAY + i * MINUTE_MS, powerOver({ genW, conW }, MINUTE_MS));
  }
  return minutes;
}

describe("day records", () => {
  it("give back the minutes they were made from", () => {
    const minutes = fullDay();
    expect(decodeDay(encodeDay(DAY, minutes))).toEqual({ dayStartMs: DAY, minutes, cursors: new Map(), late: new Map() });
  });

  it("give back each meter's cursor and the late readings per minute", () => {
    const cursors = new Map([
      ["m1", DAY + 90_000],
      ["gateway", DAY + 24 * 60 * MINUTE_MS],
    ]);
    const late = new Map([[DAY + 7 * MINUTE_MS, 2]]);
    const decoded = decodeDay(encodeDay(DAY, fullDay(), cursors, late));
    expect(decoded?.cursors).toEqual(cursors);
    expect(decoded?.late).toEqual(late);
  });

  it("read a record written before cursors and late counts existed", () => {
    const old = JSON.parse(encodeDay(DAY, fullDay())) as Record<string, unknown>;
    expect(Object.keys(old)).toEqual(["day", "gen", "con", "imp", "exp"]);
    expect(decodeDay(JSON.stringify(old))).toMatchObject({ cursors: new Map(), late: new Map() });
  });

  it("hold only their own UTC day and leave out minutes without data", () => {
    const energy = { genWms: 1, conWms: 2, importWms: 1, exportWms: 0 };
    const minutes = new Map([
      [DAY - MINUTE_MS, energy],
      [DAY + 5 * MINUTE_MS, energy],
      [DAY + 24 * 60 * MINUTE_MS, energy],
    ]);
    expect(decodeDay(encodeDay(utcDayStart(DAY + 5 * MINUTE_MS), minutes))?.minutes).toEqual(new Map([[DAY + 5 * MINUTE_MS, energy]]));
  });

  it("keep a full day of 1,440 one-minute buckets of a 100 kW community under 64 KiB", () => {
    const bytes = Buffer.byteLength(encodeDay(DAY, fullDay()));
    expect(bytes).toBeLessThan(64 * 1024);
    expect(bytes).toBeGreaterThan(40 * 1024); // four columns of 1,440 numbers of ~10 digits
  });

  it("refuse what is not a day record", () => {
    expect(decodeDay("not json")).toBeUndefined();
    expect(decodeDay("null")).toBeUndefined();
    expect(decodeDay(JSON.stringify({ day: "2026-06-21", gen: [1], con: [], imp: [], exp: [] }))).toBeUndefined();
    const negative = JSON.parse(encodeDay(DAY, new Map())) as { gen: number[] };
    negative.gen[3] = -1;
    expect(decodeDay(JSON.stringify(negative))).toBeUndefined();
  });
});

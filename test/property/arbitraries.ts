import fc from "fast-check";
import { MAX_WATTS } from "../../src/domain/reading.js";

/** Generators shared by the property tests: valid values, and the hostile ones around them. */

export const ID_ALPHABET = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"];
const ID_CHAR = /^[A-Za-z0-9_-]$/;

/**
 * A string of `minLength`–`maxLength` characters drawn from `chars`. (An array of indexes joined:
 * several times faster than fc.string with a unit, which matters at thousands of cases.)
 */
export const stringOf = (chars: readonly string[], minLength: number, maxLength: number): fc.Arbitrary<string> =>
  fc.array(fc.integer({ min: 0, max: chars.length - 1 }), { minLength, maxLength }).map((indexes) => indexes.map((i) => chars[i]).join(""));

/** An id as ID_PATTERN allows it: 1–64 of [A-Za-z0-9_-]. */
export const validId = (): fc.Arbitrary<string> => stringOf(ID_ALPHABET, 1, 64);

/** Strings of UTF-16 code units from `min` to `max`, lone surrogates included when the range has them. */
const codeUnits = (min: number, max: number, maxLength: number): fc.Arbitrary<string> =>
  fc.array(fc.integer({ min, max }), { maxLength }).map((units) => String.fromCharCode(...units));

/** One UTF-16 code unit, lone surrogates included: what a JS string may hold after a bad decode. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));

/**
 * Characters that must never reach a subject or key: NATS subject syntax, whitespace, path and
 * escape characters, controls, Unicode line separators, bidi marks and other invisibles.
 */
export const HOSTILE_CHARS = [".", "*", ">", " ", "\t", "\n", "\r", "\0", "/", "\\", "%", ":", "?", "#", "$", "{", "}", "'", '"', "\u0085", "\u00a0", "\u2028", "\u2029", "\u200b", "\u200e", "\u200f", "\u202a", "\u202e", "\u2066", "\u2069", "\ufeff", "\ud800", "\udfff", "é", "İ", "😀", "\u0301"];

/** Any one character outside the id alphabet. */
export const hostileChar = (): fc.Arbitrary<string> =>
  fc.oneof(fc.constantFrom(...HOSTILE_CHARS), fc.string({ unit: "binary", minLength: 1, maxLength: 1 }).filter((c) => !ID_CHAR.test(c)), codeUnit.filter((c) => !ID_CHAR.test(c)));

/** Any string at all: printable, control characters, any code point, lone surrogates. */
export const anyString = (maxLength = 80): fc.Arbitrary<string> =>
  fc.oneof(
    codeUnits(0x20, 0x7e, maxLength),
    codeUnits(0, 0xff, maxLength),
    fc.string({ unit: "binary", maxLength }),
    codeUnits(0, 0xffff, maxLength),
    stringOf([...HOSTILE_CHARS, ...ID_ALPHABET], 0, maxLength),
  );

/** A string that ID_PATTERN must refuse: empty, too long, or a valid id with a hostile character in it. */
export const invalidIdString = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constant(""),
    stringOf(ID_ALPHABET, 65, 300),
    fc.tuple(stringOf(ID_ALPHABET, 0, 63), hostileChar(), fc.nat()).map(([id, bad, at]) => {
      const i = at % (id.length + 1);
      return `${id.slice(0, i)}${bad}${id.slice(i)}`;
    }),
  );

/** Values of every JSON and JS type but a string. */
export const nonString = (): fc.Arbitrary<unknown> =>
  fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.array(fc.string(), { maxLength: 3 }), fc.object({ maxDepth: 1 }), fc.bigInt());

/** Watts a reading may carry: finite, from 0 to 1 GW. */
export const validWatts = (): fc.Arbitrary<number> => fc.oneof(fc.integer({ min: 0, max: MAX_WATTS }), fc.double({ min: 0, max: MAX_WATTS, noNaN: true }));

/** Watts a reading must not carry, and anything that is not a number. */
export const invalidWatts = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.double({ max: -Number.MIN_VALUE, noNaN: true }),
    fc.double({ min: MAX_WATTS + 1, noNaN: true }),
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e300, -1, MAX_WATTS * 2),
    fc.constantFrom("100", "NaN", "Infinity", "-0", "1e3", "", " "),
    fc.constant(null),
    fc.constant(undefined),
    fc.boolean(),
    fc.array(fc.integer(), { maxLength: 2 }),
    fc.object({ maxDepth: 1 }),
  );

const pad = (n: number, width: number): string => String(n).padStart(width, "0");

const daysInMonth = (year: number, month: number): number => {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
};

/** A valid ISO-8601 timestamp with a zone, in every form the parser documents, and its instant worked out independently. */
export interface TimestampCase {
  readonly text: string;
  readonly ms: number;
}

export const validTimestamp = (): fc.Arbitrary<TimestampCase> =>
  fc
    .record({
      year: fc.integer({ min: 0, max: 9999 }),
      month: fc.integer({ min: 1, max: 12 }),
      dayPick: fc.nat(),
      hour: fc.integer({ min: 0, max: 23 }),
      minute: fc.integer({ min: 0, max: 59 }),
      seconds: fc.option(
        fc.record({ second: fc.integer({ min: 0, max: 59 }), fraction: fc.option(stringOf([..."0123456789"], 1, 9)) }),
      ),
      zone: fc.option(fc.record({ sign: fc.constantFrom(1, -1), hours: fc.integer({ min: 0, max: 23 }), minutes: fc.integer({ min: 0, max: 59 }), colon: fc.boolean() })),
      lastDay: fc.boolean(),
    })
    .map(({ year, month, dayPick, hour, minute, seconds, zone, lastDay }) => {
      const dim = daysInMonth(year, month);
      // The last day of a month (29 February above all) is where calendars go wrong: pick it often.
      const day = lastDay ? dim : 1 + (dayPick % dim);
      const second = seconds?.second ?? 0;
      const fractionMs = seconds?.fraction ? Number(seconds.fraction.padEnd(3, "0").slice(0, 3)) : 0;
      const at = new Date(0);
      at.setUTCFullYear(year, month - 1, day);
      at.setUTCHours(hour, minute, second, fractionMs);
      const offsetMin = zone ? zone.sign * (zone.hours * 60 + zone.minutes) : 0;
      const time = `${pad(hour, 2)}:${pad(minute, 2)}${seconds ? `:${pad(second, 2)}${seconds.fraction ? `.${seconds.fraction}` : ""}` : ""}`;
      const zoneText = zone ? `${zone.sign > 0 ? "+" : "-"}${pad(zone.hours, 2)}${zone.colon ? ":" : ""}${pad(zone.minutes, 2)}` : "Z";
      return { text: `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${time}${zoneText}`, ms: at.getTime() - offsetMin * 60_000 };
    });

/** A meter reading as a meter sends it (ids valid, watts in range, a valid timestamp, a safe seq). */
export const validMeterReading = (): fc.Arbitrary<{ meterId: string; communityId: string; genW: number; conW: number; measuredAt: string; seq: number }> =>
  fc.record({
    meterId: validId().filter((id) => id !== "_community"),
    communityId: validId(),
    genW: validWatts(),
    conW: validWatts(),
    measuredAt: validTimestamp().map((t) => t.text),
    seq: fc.maxSafeNat(),
  });

/** A JSON body of any shape, deep and wide, with odd keys (`__proto__`, `constructor`) among them. */
export const anyJson = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom("meterId", "communityId", "genW", "conW", "measuredAt", "seq", "__proto__", "constructor", "toString"), fc.string()), fc.jsonValue({ maxDepth: 2 }), {
      maxKeys: 8,
    }),
  );

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { communityReadingSubject, meterReadingSubject, parseReadingSubject } from "../../src/wire/names.js";
import { isValidId } from "../../src/domain/ids.js";
import { TraceError, type TraceEntry, formatTraceLine, parseTrace, parseTraceLine, shiftEntry } from "../../src/sim/trace.js";
import { anyJson, anyString, nonString, validId, validMeterReading } from "./arbitraries.js";
import { checkProperty } from "./property.js";

/** A trace line as `sim --record` writes it: a reading subject, maybe an id, a reading or a malformed message. */
const recordedEntry = (): fc.Arbitrary<TraceEntry> =>
  fc
    .tuple(validMeterReading(), fc.boolean(), fc.option(fc.string({ maxLength: 40 })), fc.oneof(fc.constant(undefined), anyString(40), anyJson()))
    .map(([reading, community, msgId, malformed]) => ({
      subject: community ? communityReadingSubject(reading.communityId) : meterReadingSubject(reading.communityId, reading.meterId),
      ...(msgId !== null && { msgId }),
      data: malformed === undefined ? reading : malformed,
    }))
    // `data` is required: JSON has no undefined, and a line whose data is null is kept as null.
    .filter((entry) => entry.data !== undefined);

/** Subjects a replay must never publish to: the JetStream and KV APIs, the dead letters, wildcards, hostile ids. */
const foreignSubject = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom("$JS.API.STREAM.DELETE.EC_STREAM", "$JS.API.STREAM.PURGE.EC_STREAM", "$KV.ec_latest.community/x", "ec.dlq", "ec.x.agg", "ec.*.net", "ec.>", "ec.x.meter.*", "ecp.0.x.meter.m", "_INBOX.x", "ec.a b.net", "ec..net", "ec.x.meter.", "ec.x.net.extra"),
    anyString(40).filter((s) => s !== "" && parseReadingSubject(s) === undefined),
    fc.tuple(validId(), fc.constantFrom("ä", "%", "/", "\u202e", "\u0000", "$")).map(([id, bad]) => `ec.${id}${bad}.net`),
  );

describe("parseTraceLine (a line of a --replay file)", () => {
  it("never throws anything but a TraceError that names the line", () => {
    // A recorded line with one field of the wrong type or missing.
    const spoiled = fc
      .tuple(recordedEntry(), fc.constantFrom("subject", "msgId", "data"), fc.oneof(nonString(), anyString(20)))
      .map(([entry, field, value]) => JSON.stringify({ ...entry, [field]: value }, (_k, v: unknown) => (typeof v === "bigint" ? Number(v) : v)));
    const line = fc.oneof(anyString(120), anyJson().map((v) => JSON.stringify(v)), recordedEntry().map(formatTraceLine), spoiled, foreignSubject().map((subject) => JSON.stringify({ subject, data: {} })));
    checkProperty(
      "parseTraceLine: TraceError only, naming the line",
      fc.property(line, fc.integer({ min: 1, max: 1_000_000 }), (text, lineNumber) => {
        try {
          const entry = parseTraceLine(text, lineNumber);
          expect(typeof entry.subject === "string" && entry.data !== undefined).toBe(true);
          expect(entry.msgId === undefined || typeof entry.msgId === "string").toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(TraceError);
          expect((err as TraceError).message.startsWith(`line ${lineNumber}: `)).toBe(true);
        }
      }),
      2_000,
    );
  });

  it("reads back every line that sim --record writes", () => {
    checkProperty(
      "trace lines round-trip",
      fc.property(fc.array(recordedEntry(), { maxLength: 5 }), fc.constantFrom("\n", "\n\n", "\n  \n"), (entries, separator) => {
        const text = entries.map(formatTraceLine).join(separator);
        expect(parseTrace(text)).toEqual(JSON.parse(JSON.stringify(entries)));
      }),
      2_000,
    );
  });

  it("accepts only the subjects of readings, with valid ids: a replay never publishes anywhere else", () => {
    checkProperty(
      "trace lines refuse foreign subjects",
      fc.property(foreignSubject(), fc.nat({ max: 1_000 }), (subject, lineNumber) => {
        expect(() => parseTraceLine(JSON.stringify({ subject, data: {} }), lineNumber + 1)).toThrow(TraceError);
      }),
      2_000,
    );
    checkProperty(
      "accepted trace subjects are reading subjects with valid ids",
      fc.property(fc.oneof(anyString(40), foreignSubject(), recordedEntry().map((e) => e.subject)), (subject) => {
        let entry: TraceEntry;
        try {
          entry = parseTraceLine(JSON.stringify({ subject, data: {} }), 1);
        } catch {
          return;
        }
        const where = parseReadingSubject(entry.subject);
        expect(where !== undefined && where.partition === undefined && isValidId(where.communityId) && (where.level === "community" || isValidId(where.meterId))).toBe(true);
      }),
      2_000,
    );
  });

  it("shifting an entry in time never throws and keeps its subject", () => {
    checkProperty(
      "shiftEntry never throws",
      fc.property(recordedEntry(), fc.integer({ min: -1e12, max: 1e12 }), (entry, shiftMs) => {
        expect(shiftEntry(entry, shiftMs).subject).toBe(entry.subject);
      }),
      2_000,
    );
  });
});

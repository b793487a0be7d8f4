import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeReading } from "../../src/wire/decode-reading.js";
import { PARTITIONED_SUBJECT_PREFIX, PARTITIONS, type ReadingSubject, communityReadingSubject, meterReadingSubject, parseReadingSubject, partitionOf, partitionedSubject } from "../../src/wire/names.js";
import { hashString } from "../../src/domain/hash.js";
import { COMMUNITY_METER_ID, isValidId } from "../../src/domain/ids.js";
import { MAX_WATTS, parseTimestamp } from "../../src/domain/reading.js";
import { HOSTILE_CHARS, anyJson, anyString, stringOf, validId, validMeterReading } from "./arbitraries.js";
import { checkProperty } from "./property.js";

/** The subject a parsed subject was read from. */
function subjectOf(where: ReadingSubject): string {
  const published = where.level === "community" ? communityReadingSubject(where.communityId) : meterReadingSubject(where.communityId, where.meterId);
  return where.partition === undefined ? published : `${PARTITIONED_SUBJECT_PREFIX}.${where.partition}.${published.slice("ec.".length)}`;
}

/** Strings made of subject tokens, the valid ones and their near misses. */
const subjectLike = (): fc.Arbitrary<string> => {
  const token = fc.oneof(
    fc.constantFrom("ec", "ecp", "meter", "net", "agg", "dlq", "*", ">", "", "0", "7", "8", "00", "01", "9999", "10000", "-1", "EC", " ec"),
    validId(),
    stringOf([...HOSTILE_CHARS, "a", "1"], 0, 4),
  );
  // Shaped like a reading's subject, each part possibly off: prefix, partition, id, level, meter, extra tokens.
  const shaped = fc
    .tuple(
      fc.constantFrom(["ec"], ["ecp", "0"], ["ecp", "7"], ["ecp", "00"], ["ecp", "07"], ["ecp", "12"], ["ecp", ""], ["ecp", "x"], ["ec", "0"], ["EC"]),
      fc.oneof(validId(), token),
      fc.constantFrom(["net"], ["meter"], ["agg"], ["net", "x"]),
      fc.array(token, { maxLength: 2 }),
    )
    .map(([prefix, community, level, rest]) => [...prefix, community, ...level, ...rest].join("."));
  return fc.oneof({ weight: 2, arbitrary: shaped }, fc.array(token, { minLength: 1, maxLength: 7 }).map((tokens) => tokens.join(".")), anyString(60));
};

describe("parseReadingSubject", () => {
  it("never throws, and what it reads it reads back exactly (no part of a subject is dropped or invented)", () => {
    checkProperty(
      "parseReadingSubject never throws; parse → format is the identity",
      fc.property(subjectLike(), (subject) => {
        const where = parseReadingSubject(subject);
        if (!where) return;
        expect(subjectOf(where)).toBe(subject);
        expect(where.communityId).not.toBe("");
        if (where.level === "meter") expect(where.meterId).not.toBe("");
        if (where.partition !== undefined) expect(Number.isSafeInteger(where.partition) && where.partition >= 0).toBe(true);
      }),
      3_000,
    );
  });

  it("reads the subjects of valid ids, published and partitioned, into their parts", () => {
    checkProperty(
      "parseReadingSubject reads valid subjects; partitionedSubject moves them once",
      fc.property(validId(), fc.option(validId()), (communityId, meterId) => {
        const published = meterId === null ? communityReadingSubject(communityId) : meterReadingSubject(communityId, meterId);
        const where = meterId === null ? { level: "community", communityId } : { level: "meter", communityId, meterId };
        expect(parseReadingSubject(published)).toEqual(where);
        const partitioned = partitionedSubject(published);
        const partition = partitionOf(communityId);
        expect(partitioned).toBe(`${PARTITIONED_SUBJECT_PREFIX}.${partition}.${published.slice(3)}`);
        expect(parseReadingSubject(partitioned!)).toEqual({ ...where, partition });
        // A partitioned subject is not moved again.
        expect(partitionedSubject(partitioned!)).toBeUndefined();
        expect(partition >= 0 && partition < PARTITIONS).toBe(true);
      }),
      2_000,
    );
  });

  it("partitionOf is what nats-server's partition(8,1) computes: FNV-1a over the id's bytes, mod 8", () => {
    // nats-server hashes the bytes of the token; every valid id is ASCII, one byte a character.
    const fnv1aOfBytes = (text: string): number => {
      let hash = 0x811c9dc5;
      for (const byte of Buffer.from(text, "utf8")) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
      return hash;
    };
    checkProperty(
      "partitionOf matches a byte-wise FNV-1a for valid ids",
      fc.property(validId(), (id) => {
        expect(hashString(id)).toBe(fnv1aOfBytes(id));
        expect(partitionOf(id)).toBe(fnv1aOfBytes(id) % PARTITIONS);
      }),
      3_000,
    );
  });
});

describe("decodeReading (a bus message)", () => {
  it("never throws; an accepted message has valid ids matching its subject and watts within 0…1 GW", () => {
    const payload = fc.oneof(anyString(200), anyJson().map((v) => JSON.stringify(v)), validMeterReading().map((r) => JSON.stringify(r)));
    checkProperty(
      "decodeReading never throws on any subject and payload",
      fc.property(subjectLike(), payload, fc.maxSafeNat(), (subject, data, streamSeq) => {
        const decoded = decodeReading(subject, data, streamSeq);
        if (!decoded.ok) {
          expect(decoded.reason.length).toBeGreaterThan(0);
          return;
        }
        const where = parseReadingSubject(subject)!;
        expect(isValidId(decoded.communityId) && decoded.communityId === where.communityId).toBe(true);
        expect(decoded.meterId).toBe(where.level === "meter" ? where.meterId : COMMUNITY_METER_ID);
        for (const watts of [decoded.state.genW, decoded.state.conW]) expect(Number.isInteger(watts) && watts >= 0 && watts <= MAX_WATTS).toBe(true);
        expect(Number.isFinite(decoded.state.measuredAtMs)).toBe(true);
      }),
      3_000,
    );
  });

  it("accepts a valid reading on its own subject, published or partitioned, and refuses it on another meter's or community's", () => {
    checkProperty(
      "decodeReading: valid readings on their subject, refused on another",
      fc.property(validMeterReading(), validId(), fc.boolean(), fc.maxSafeNat(), (reading, other, partitioned, streamSeq) => {
        const published = meterReadingSubject(reading.communityId, reading.meterId);
        const subject = partitioned ? partitionedSubject(published)! : published;
        const decoded = decodeReading(subject, JSON.stringify(reading), streamSeq);
        expect(decoded).toEqual({
          ok: true,
          communityId: reading.communityId,
          meterId: reading.meterId,
          state: { genW: Math.round(reading.genW), conW: Math.round(reading.conW), measuredAtMs: parseTimestamp(reading.measuredAt), seq: reading.seq },
        });
        if (other !== reading.meterId) {
          expect(decodeReading(meterReadingSubject(reading.communityId, other), JSON.stringify(reading), streamSeq)).toEqual({ ok: false, reason: "meterId differs from the subject" });
        }
        if (other !== reading.communityId) {
          expect(decodeReading(meterReadingSubject(other, reading.meterId), JSON.stringify(reading), streamSeq)).toEqual({ ok: false, reason: "communityId differs from the subject" });
        }
      }),
      2_000,
    );
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { changeFeedSubject, communityReadingSubject, dedupId, latestKey, meterReadingSubject } from "../../src/wire/names.js";
import { ID_PATTERN, idProblem, isValidId } from "../../src/domain/ids.js";
import { ID_ALPHABET, anyString, invalidIdString, nonString, validId } from "./arbitraries.js";
import { checkProperty } from "./property.js";

describe("ids", () => {
  it("accepts every string of 1–64 characters of [A-Za-z0-9_-]", () => {
    checkProperty(
      "ID_PATTERN accepts the whole alphabet, 1–64 long",
      fc.property(validId(), (id) => {
        expect(isValidId(id)).toBe(true);
        expect(idProblem("communityId", id)).toBeUndefined();
      }),
      2_000,
    );
  });

  it("refuses an empty or overlong id, and any id with one character outside the alphabet, naming the field", () => {
    checkProperty(
      "idProblem refuses invalid ids, naming the field",
      fc.property(invalidIdString(), validId(), (id, field) => {
        expect(isValidId(id)).toBe(false);
        expect(idProblem(field, id)?.startsWith(`${field} `)).toBe(true);
      }),
      2_000,
    );
  });

  it("never throws; a problem exactly when the value is not a valid id, and always naming the field", () => {
    checkProperty(
      "idProblem never throws on any value",
      fc.property(fc.oneof(anyString(100), nonString(), fc.anything()), (value) => {
        const problem = idProblem("meterId", value);
        expect(problem === undefined).toBe(isValidId(value));
        if (problem !== undefined) expect(problem).toMatch(/^meterId (is required|must be a string|must match \[A-Za-z0-9_-\]\{1,64\})$/);
      }),
      3_000,
    );
  });

  it("a valid id is exactly one token of a subject, one segment of a key, and one line", () => {
    // Anything ID_PATTERN accepts, whatever the string: NATS subject syntax (`.`, `*`, `>`),
    // whitespace, `/` and `%` would let an id change a subject, a key or a URL.
    const accepted = fc.oneof(validId(), anyString(70)).filter((value) => ID_PATTERN.test(value));
    checkProperty(
      "valid ids are single subject tokens and key segments",
      fc.property(accepted, validId(), (communityId, meterId) => {
        expect(communityId).toMatch(/^[\x21-\x7e]{1,64}$/);
        expect([...communityId].every((c) => ID_ALPHABET.includes(c))).toBe(true);
        expect(meterReadingSubject(communityId, meterId).split(".")).toEqual(["ec", communityId, "meter", meterId]);
        expect(communityReadingSubject(communityId).split(".")).toEqual(["ec", communityId, "net"]);
        expect(changeFeedSubject(communityId).split(".")).toEqual(["ecagg", communityId]);
        expect(latestKey(communityId).split("/")).toEqual(["community", communityId]);
        expect(dedupId(communityId, meterId, 1).split(".")).toEqual([communityId, meterId, "1"]);
        expect(encodeURIComponent(communityId)).toBe(communityId);
      }),
      2_000,
    );
  });
});

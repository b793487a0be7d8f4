import { describe, expect, it } from "vitest";
import { COMMUNITY_METER_ID, ID_PATTERN, idProblem, isValidId } from "../../src/domain/ids.js";

describe("isValidId", () => {
  it("accepts letters, digits, underscore and dash", () => {
    expect(isValidId("community1")).toBe(true);
    expect(isValidId("Meter_007-b")).toBe(true);
  });

  it("accepts 64 characters and rejects 65", () => {
    expect(isValidId("a".repeat(64))).toBe(true);
    expect(isValidId("a".repeat(65))).toBe(false);
  });

  it.each([".", "*", ">", " ", "a.b", "a*", "a>", "a b", "ä", "a/b", ""])("rejects %j, which could inject a subject or key", (value) => {
    expect(isValidId(value)).toBe(false);
  });

  it("rejects values that are not strings", () => {
    expect(isValidId(12)).toBe(false);
    expect(isValidId(undefined)).toBe(false);
    expect(isValidId(null)).toBe(false);
  });

  it("the community meter id itself matches the id pattern, so it can appear in subjects and keys", () => {
    expect(ID_PATTERN.test(COMMUNITY_METER_ID)).toBe(true);
    expect(COMMUNITY_METER_ID).toBe("_community");
  });
});

describe("idProblem", () => {
  it("is undefined for a valid id", () => {
    expect(idProblem("meterId", "meter001")).toBeUndefined();
  });

  it("says a missing or empty id is required, naming the field", () => {
    expect(idProblem("meterId", undefined)).toBe("meterId is required");
    expect(idProblem("meterId", null)).toBe("meterId is required");
    expect(idProblem("communityId", "")).toBe("communityId is required");
  });

  it("says a non-string id must be a string", () => {
    expect(idProblem("communityId", 7)).toBe("communityId must be a string");
  });

  it("names the allowed alphabet for an id with a dot", () => {
    expect(idProblem("communityId", "a.b")).toBe("communityId must match [A-Za-z0-9_-]{1,64}");
  });
});

import { describe, expect, it } from "vitest";
import { unitsOf } from "../../src/leases/assignment.js";

describe("unitsOf", () => {
  it("a lone member takes every unit", () => {
    expect(unitsOf("a", ["a"], 9)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("members sorted by id take the units in turn, so all of them agree and none is left out", () => {
    const members = ["c", "a", "b"];
    const shares = members.map((member) => unitsOf(member, members, 9));
    expect(shares).toEqual([
      [2, 5, 8],
      [0, 3, 6],
      [1, 4, 7],
    ]);
    expect(shares.flat().sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("the order in which a member sees the others, and duplicates, change nothing", () => {
    expect(unitsOf("b", ["c", "b", "a", "b"], 9)).toEqual(unitsOf("b", ["a", "b", "c"], 9));
  });

  it("a member missing from the list owns nothing, and more members than units leave some idle", () => {
    expect(unitsOf("z", ["a", "b"], 9)).toEqual([]);
    const members = Array.from({ length: 12 }, (_, i) => `m${String(i).padStart(2, "0")}`);
    expect(unitsOf("m11", members, 9)).toEqual([]);
    expect(unitsOf("m00", members, 9)).toEqual([0]);
  });
});

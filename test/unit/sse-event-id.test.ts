import { describe, expect, it } from "vitest";
import { parseLastEventId, sseEventId } from "../../src/wire/sse-event-id.js";

describe("sseEventId", () => {
  it("is <epoch>:<version>", () => {
    expect(sseEventId({ epoch: 1_795_354_800_000, version: 42 })).toBe("1795354800000:42");
    expect(sseEventId({ epoch: 0, version: 0 })).toBe("0:0");
  });
});

describe("parseLastEventId", () => {
  it("reads back an id sseEventId wrote", () => {
    expect(parseLastEventId(sseEventId({ epoch: 1_795_354_800_000, version: 42 }))).toEqual({ epoch: 1_795_354_800_000, version: 42 });
  });

  it("reads an old numeric id (the version alone) as a version without epoch", () => {
    expect(parseLastEventId("17")).toEqual({ version: 17 });
    expect(parseLastEventId("0")).toEqual({ version: 0 });
  });

  it("takes no header, and anything malformed, as no id", () => {
    for (const text of [undefined, "", " ", "abc", "-1", "+3", "1.5", "1e3", "0x10", " 7", "7 ", "5:", ":5", "1:2:3", "1:-2", "a:1", "9".repeat(16), `1:${"9".repeat(16)}`, "9".repeat(400)]) {
      expect(parseLastEventId(text), String(text)).toBeUndefined();
    }
  });
});

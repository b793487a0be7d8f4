import { describe, expect, it } from "vitest";
import { TraceError, type TraceEntry, entryTimeMs, formatTraceLine, parseTrace, parseTraceLine, shiftEntry } from "../../src/sim/trace.js";

const T0 = Date.UTC(2026, 5, 21, 12);
const ISO0 = new Date(T0).toISOString();
const HOUR = 3_600_000;

const meterEntry = (atMs = T0, suffix = ""): TraceEntry => ({
  subject: "ec.community1.meter.meter001",
  msgId: `community1.meter001.${atMs}${suffix}`,
  data: { meterId: "meter001", communityId: "community1", genW: 1200, conW: 300, measuredAt: new Date(atMs).toISOString(), seq: atMs },
});

function traceError(line: string, lineNumber: number): TraceError {
  try {
    parseTraceLine(line, lineNumber);
  } catch (err) {
    if (err instanceof TraceError) return err;
    throw new Error(`expected a TraceError, got ${String(err)}`);
  }
  throw new Error(`expected ${line} to be rejected`);
}

describe("parseTraceLine", () => {
  it("reads back what formatTraceLine wrote", () => {
    const entry = meterEntry();
    expect(parseTraceLine(formatTraceLine(entry), 1)).toEqual(entry);
  });

  it("keeps a malformed message's raw string as data and leaves msgId out when absent", () => {
    const entry = parseTraceLine(JSON.stringify({ subject: "ec.c.net", data: '{"genW":' }), 1);
    expect(entry).toEqual({ subject: "ec.c.net", data: '{"genW":' });
    expect("msgId" in entry).toBe(false);
  });

  it("accepts null as data (a message whose JSON is null)", () => {
    expect(parseTraceLine('{"subject":"ec.c.net","data":null}', 1)).toEqual({ subject: "ec.c.net", data: null });
  });

  it.each([
    ["{not json", 3, "line 3: not valid JSON"],
    ["[1,2]", 4, "line 4: must be a JSON object"],
    ["null", 5, "line 5: must be a JSON object"],
    ['"text"', 6, "line 6: must be a JSON object"],
    ['{"data":{}}', 7, "line 7: subject must be a non-empty string"],
    ['{"subject":"","data":{}}', 8, "line 8: subject must be a non-empty string"],
    ['{"subject":5,"data":{}}', 9, "line 9: subject must be a non-empty string"],
    ['{"subject":"ec.c.net","msgId":5,"data":{}}', 10, "line 10: msgId must be a string"],
    ['{"subject":"ec.c.net"}', 11, "line 11: data is required"],
  ])("rejects %s, naming the line and the field", (line, lineNumber, message) => {
    expect(traceError(line, lineNumber).message).toBe(message);
  });
});

describe("parseTrace", () => {
  it("parses every non-blank line in order", () => {
    const text = [formatTraceLine(meterEntry(T0)), "", "   ", formatTraceLine(meterEntry(T0 + 1_000)), ""].join("\n");
    expect(parseTrace(text)).toEqual([meterEntry(T0), meterEntry(T0 + 1_000)]);
  });

  it("counts blank lines when it names a bad line", () => {
    const text = [formatTraceLine(meterEntry()), "", '{"subject":"x"}'].join("\n");
    expect(() => parseTrace(text)).toThrow(new TraceError("line 3: data is required"));
  });
});

describe("entryTimeMs", () => {
  it("is the reading's measuredAt in ms", () => {
    expect(entryTimeMs(meterEntry())).toBe(T0);
    expect(entryTimeMs({ subject: "ec.c.net", data: { measuredAt: "2026-06-21T14:00:00+02:00" } })).toBe(T0);
  });

  it("is undefined for a message without a usable time", () => {
    expect(entryTimeMs({ subject: "s", data: '{"genW":' })).toBeUndefined();
    expect(entryTimeMs({ subject: "s", data: null })).toBeUndefined();
    expect(entryTimeMs({ subject: "s", data: { genW: 1 } })).toBeUndefined();
    expect(entryTimeMs({ subject: "s", data: { measuredAt: "yesterday" } })).toBeUndefined();
    expect(entryTimeMs({ subject: "s", data: { measuredAt: "2026-06-21T12:00:00" } })).toBeUndefined();
  });
});

describe("shiftEntry", () => {
  it("moves measuredAt, seq and the msgId's number by the shift", () => {
    const shifted = shiftEntry(meterEntry(T0), 24 * HOUR);
    expect(shifted).toEqual(meterEntry(T0 + 24 * HOUR));
  });

  it("moves data time backwards too", () => {
    expect(shiftEntry(meterEntry(T0), -HOUR)).toEqual(meterEntry(T0 - HOUR));
  });

  it("keeps the .dup suffix of a duplicate's msgId", () => {
    expect(shiftEntry(meterEntry(T0, ".dup"), HOUR).msgId).toBe(`community1.meter001.${T0 + HOUR}.dup`);
  });

  it("moves the number of a malformed message's msgId (<c>.<m>.<seq>.bad) too", () => {
    // A malformed reading the simulator recorded: still has measuredAt and seq, its id ends in .bad.
    const entry: TraceEntry = {
      subject: "ec.community1.meter.meter001",
      msgId: `community1.meter001.${T0}.bad`,
      data: { meterId: "meter001", communityId: "community1", measuredAt: ISO0, seq: T0, genW: -5, conW: 100 },
    };
    const shifted = shiftEntry(entry, HOUR);
    expect(shifted.data).toMatchObject({ measuredAt: new Date(T0 + HOUR).toISOString(), seq: T0 + HOUR });
    // Otherwise a replay rebased again within JetStream's duplicate window is dropped as a duplicate.
    expect(shifted.msgId).toBe(`community1.meter001.${T0 + HOUR}.bad`);
  });

  it("adds no seq to a community-level reading, which has none", () => {
    const entry: TraceEntry = { subject: "ec.community1.net", msgId: `community1._community.${T0}`, data: { communityId: "community1", genW: 5, conW: 7, measuredAt: ISO0 } };
    expect(shiftEntry(entry, 1_000)).toEqual({
      subject: "ec.community1.net",
      msgId: `community1._community.${T0 + 1_000}`,
      data: { communityId: "community1", genW: 5, conW: 7, measuredAt: new Date(T0 + 1_000).toISOString() },
    });
  });

  it("leaves out msgId when the entry had none", () => {
    const { msgId: _, ...withoutId } = meterEntry();
    const shifted = shiftEntry(withoutId, 1_000);
    expect("msgId" in shifted).toBe(false);
    expect((shifted.data as { seq: number }).seq).toBe(T0 + 1_000);
  });

  it("returns the entry itself for a shift of 0, and keeps a message without data time as it is", () => {
    const entry = meterEntry();
    expect(shiftEntry(entry, 0)).toBe(entry);
    const raw: TraceEntry = { subject: "ec.community1.meter.meter001", data: '{"meterId":"meter001","genW":' };
    expect(shiftEntry(raw, HOUR)).toEqual(raw);
  });

  it("does not change the entry it was given", () => {
    const entry = meterEntry();
    shiftEntry(entry, HOUR);
    expect(entry).toEqual(meterEntry());
  });
});

import { describe, expect, it } from "vitest";
import { decodeReading } from "../../src/wire/decode-reading.js";

const T = Date.UTC(2026, 10, 22, 12);
const meterPayload = (patch: Record<string, unknown> = {}): string =>
  JSON.stringify({ meterId: "m1", communityId: "c1", genW: 1200.6, conW: 300, measuredAt: "2026-11-22T12:00:00Z", seq: 17, ...patch });
const communityPayload = (patch: Record<string, unknown> = {}): string =>
  JSON.stringify({ communityId: "c1", genW: 5200, conW: 3100, measuredAt: "2026-11-22T12:00:00Z", ...patch });

describe("decodeReading of meter readings", () => {
  it("turns a meter reading into that meter's state with its own seq and rounded watts", () => {
    expect(decodeReading("ec.c1.meter.m1", meterPayload(), 999)).toEqual({
      ok: true,
      communityId: "c1",
      meterId: "m1",
      state: { genW: 1201, conW: 300, measuredAtMs: T, seq: 17 },
    });
  });

  it("reads measuredAt with an offset as the same instant", () => {
    const decoded = decodeReading("ec.c1.meter.m1", meterPayload({ measuredAt: "2026-11-22T13:00:00+01:00" }), 1);
    expect(decoded.ok && decoded.state.measuredAtMs).toBe(T);
  });

  it("rejects a reading whose communityId differs from the subject", () => {
    expect(decodeReading("ec.c2.meter.m1", meterPayload(), 1)).toEqual({ ok: false, reason: "communityId differs from the subject" });
  });

  it("rejects a reading whose meterId differs from the subject", () => {
    expect(decodeReading("ec.c1.meter.m2", meterPayload(), 1)).toEqual({ ok: false, reason: "meterId differs from the subject" });
  });

  it("passes on the validation error of an invalid reading", () => {
    expect(decodeReading("ec.c1.meter.m1", meterPayload({ conW: -3 }), 1)).toEqual({ ok: false, reason: "conW must not be negative" });
  });

  it("rejects a meter reading that claims the reserved meter id", () => {
    const decoded = decodeReading("ec.c1.meter._community", meterPayload({ meterId: "_community" }), 1);
    expect(decoded).toEqual({ ok: false, reason: "meterId _community is reserved for community-level readings" });
  });
});

describe("decodeReading of community-level readings", () => {
  it("counts a community-level reading as meter _community ordered by the stream sequence", () => {
    expect(decodeReading("ec.c1.net", communityPayload(), 4242)).toEqual({
      ok: true,
      communityId: "c1",
      meterId: "_community",
      state: { genW: 5200, conW: 3100, measuredAtMs: T, seq: 4242 },
    });
  });

  it("rejects a community-level reading for another community than the subject", () => {
    expect(decodeReading("ec.c1.net", communityPayload({ communityId: "c2" }), 1)).toEqual({ ok: false, reason: "communityId differs from the subject" });
  });

  it("requires measuredAt on the bus (only the HTTP edge stamps it)", () => {
    expect(decodeReading("ec.c1.net", JSON.stringify({ communityId: "c1", genW: 1, conW: 1 }), 1)).toEqual({
      ok: false,
      reason: "measuredAt is required",
    });
  });
});

describe("decodeReading of bad messages", () => {
  it("gives a reason for a payload that is not JSON", () => {
    expect(decodeReading("ec.c1.meter.m1", "{genW: 1", 1)).toEqual({ ok: false, reason: "the body is not valid JSON" });
  });

  it("gives a reason for JSON that is not an object", () => {
    expect(decodeReading("ec.c1.net", "[1,2]", 1)).toEqual({ ok: false, reason: "the body must be a JSON object" });
  });

  it.each(["ec.c1.agg", "ec.c1", "ec.c1.meter", "ec.c1.meter.m1.x", "xx.c1.net", "ec..net", "ec.dlq", "ec./.x", "/.ec.c1.net"])("rejects the subject %j, which is no reading subject, naming the reading subjects and MQTT topics", (subject) => {
    const decoded = decodeReading(subject, communityPayload(), 1);
    expect(decoded).toEqual({ ok: false, reason: "subject is not ec.<communityId>.net or ec.<communityId>.meter.<meterId> (MQTT topic ec/<communityId>/net or ec/<communityId>/meter/<meterId>)" });
  });

  it("rejects a subject whose community id is not a valid id, before reading the payload", () => {
    expect(decodeReading("ec.c*1.net", "not json", 1)).toEqual({ ok: false, reason: "communityId in the subject must match [A-Za-z0-9_-]{1,64}" });
  });
});

import { describe, expect, it } from "vitest";
import {
  STREAM_SUBJECTS,
  changeFeedSubject,
  communityReadingSubject,
  dedupId,
  latestKey,
  meterReadingSubject,
  parseReadingSubject,
} from "../../src/bus/names.js";

describe("subject builders", () => {
  it("builds the prototype's community-level subject", () => {
    expect(communityReadingSubject("community1")).toBe("ec.community1.net");
  });

  it("builds a meter subject", () => {
    expect(meterReadingSubject("community1", "meter007")).toBe("ec.community1.meter.meter007");
  });

  it("builds the change feed subject outside the stream's subjects", () => {
    expect(changeFeedSubject("community1")).toBe("ec.community1.agg");
  });

  it("builds the prototype's KV key", () => {
    expect(latestKey("community1")).toBe("community/community1");
  });

  it("builds the dedup id <community>.<meter>.<seq>", () => {
    expect(dedupId("community1", "meter007", 1_795_348_800_000)).toBe("community1.meter007.1795348800000");
  });

  it("the stream holds exactly both reading levels", () => {
    expect([...STREAM_SUBJECTS]).toEqual(["ec.*.net", "ec.*.meter.*"]);
  });
});

describe("parseReadingSubject", () => {
  it("reads a community-level subject", () => {
    expect(parseReadingSubject("ec.community1.net")).toEqual({ level: "community", communityId: "community1" });
  });

  it("reads a meter subject", () => {
    expect(parseReadingSubject("ec.community1.meter.meter007")).toEqual({ level: "meter", communityId: "community1", meterId: "meter007" });
  });

  it("reads back what the builders build", () => {
    expect(parseReadingSubject(meterReadingSubject("c-1", "m_2"))).toEqual({ level: "meter", communityId: "c-1", meterId: "m_2" });
    expect(parseReadingSubject(communityReadingSubject("c-1"))).toEqual({ level: "community", communityId: "c-1" });
  });

  it.each([
    "ec.community1.agg",
    "ec.dlq",
    "ec.community1",
    "ec.community1.net.extra",
    "ec.community1.meter",
    "ec.community1.meter.",
    "ec.community1.meter.m1.extra",
    "ec..net",
    "EC.community1.net",
    "nx.community1.net",
    "",
  ])("is undefined for %j", (subject) => {
    expect(parseReadingSubject(subject)).toBeUndefined();
  });
});

import { describe, expect, it } from "vitest";
import {
  AGGREGATOR_CONSUMERS,
  READING_STREAMS,
  DLQ_SUBJECTS,
  STREAM_SUBJECTS,
  partitionStream,
  partitionStreamSubjects,
  partitionMappings,
  partitionOf,
  partitionedSubject,
  changeFeedSubject,
  deadLetterKind,
  deadLetterSubject,
  communityReadingSubject,
  dedupId,
  latestKey,
  meterReadingSubject,
  parseReadingSubject,
} from "../../src/wire/names.js";

describe("subject builders", () => {
  it("builds the prototype's community-level subject", () => {
    expect(communityReadingSubject("community1")).toBe("ec.community1.net");
  });

  it("builds a meter subject", () => {
    expect(meterReadingSubject("community1", "meter007")).toBe("ec.community1.meter.meter007");
  });

  it("builds the change feed subject outside the stream's subjects", () => {
    expect(changeFeedSubject("community1")).toBe("ecagg.community1");
  });

  it("builds the prototype's KV key", () => {
    expect(latestKey("community1")).toBe("community/community1");
  });

  it("builds the dedup id <community>.<meter>.<seq>", () => {
    expect(dedupId("community1", "meter007", 1_795_348_800_000)).toBe("community1.meter007.1795348800000");
  });

  it("the stream holds everything under ec. (and under /.ec., an MQTT topic with a leading /), so nothing accepted there is lost", () => {
    expect([...STREAM_SUBJECTS]).toEqual(["ec.>", "/.ec.>"]);
  });

  it("ecwatch's own subjects are outside the stream's", () => {
    for (const own of [changeFeedSubject("community1"), deadLetterSubject("subject"), deadLetterSubject("reading")]) {
      expect(own.startsWith("ec.") || own.startsWith("/.ec.")).toBe(false);
    }
    expect(DLQ_SUBJECTS.map((subject) => subject.split(".")[0])).toEqual(["ecdlq"]);
  });

  it("a dead letter's kind says whether its subject was a reading subject", () => {
    expect(deadLetterKind("ec.mq1.meter.m1.extra")).toBe("subject");
    expect(deadLetterKind("ec./.x")).toBe("subject");
    expect(deadLetterKind("ecp.3.village.meter.m1")).toBe("reading");
    expect(deadLetterKind("ec.village.net")).toBe("reading");
    expect(deadLetterSubject("subject")).toBe("ecdlq.subject");
  });
});

describe("partitions", () => {
  it("a community's partition is FNV-1a of its id mod the partitions, as nats-server's partition(n,1) computes", () => {
    // Measured on nats-server 2.9.10 with partition(8,1): c1 → 1, c2 → 0, village → 3, a → 4, b → 5.
    expect(["c1", "c2", "village", "a", "b"].map((id) => partitionOf(id, 8))).toEqual([1, 0, 3, 4, 5]);
  });

  it("moves a published subject into its partition, as the mapping does", () => {
    expect(partitionedSubject("ec.village.meter.m1", 8)).toBe("ecp.3.village.meter.m1");
    expect(partitionedSubject("ec.village.net", 8)).toBe("ecp.3.village.net");
    expect(partitionedSubject("ecp.3.village.net", 8)).toBeUndefined();
    expect(partitionedSubject("ec.village.agg", 8)).toBeUndefined();
  });

  it("the mappings send both reading levels to ecp.<partition>.…", () => {
    expect(partitionMappings(8)).toEqual({
      "ec.*.meter.*": "ecp.{{partition(8,1)}}.{{wildcard(1)}}.meter.{{wildcard(2)}}",
      "ec.*.net": "ecp.{{partition(8,1)}}.{{wildcard(1)}}.net",
    });
  });

  it("each partition has a stream of its subjects and a consumer of it; agg-strays reads EC_STREAM", () => {
    expect(partitionStream(3)).toBe("EC_STREAM_P3");
    expect(partitionStreamSubjects(3)).toEqual(["ecp.3.>"]);
    expect(AGGREGATOR_CONSUMERS).toHaveLength(9);
    expect(AGGREGATOR_CONSUMERS[3]).toEqual({ stream: "EC_STREAM_P3", name: "agg-p3", partition: 3 });
    expect(AGGREGATOR_CONSUMERS[8]).toEqual({ stream: "EC_STREAM", name: "agg-strays" });
    expect(READING_STREAMS).toEqual(["EC_STREAM", ...Array.from({ length: 8 }, (_, p) => `EC_STREAM_P${p}`)]);
  });
});

describe("parseReadingSubject", () => {
  it("reads a community-level subject", () => {
    expect(parseReadingSubject("ec.community1.net")).toEqual({ level: "community", communityId: "community1" });
  });

  it("reads a meter subject", () => {
    expect(parseReadingSubject("ec.community1.meter.meter007")).toEqual({ level: "meter", communityId: "community1", meterId: "meter007" });
  });

  it("reads a partitioned subject, with its partition", () => {
    expect(parseReadingSubject("ecp.3.village.meter.m1")).toEqual({ level: "meter", communityId: "village", meterId: "m1", partition: 3 });
    expect(parseReadingSubject("ecp.0.village.net")).toEqual({ level: "community", communityId: "village", partition: 0 });
  });

  it("reads back what the builders build", () => {
    expect(parseReadingSubject(meterReadingSubject("c-1", "m_2"))).toEqual({ level: "meter", communityId: "c-1", meterId: "m_2" });
    expect(parseReadingSubject(communityReadingSubject("c-1"))).toEqual({ level: "community", communityId: "c-1" });
  });

  it.each([
    "ec.community1.agg",
    "ec.dlq",
    "ecdlq.subject",
    "ecagg.community1",
    "ec./.x",
    "/.ec.community1.net",
    "ec.community1",
    "ec.community1.net.extra",
    "ec.community1.meter",
    "ec.community1.meter.",
    "ec.community1.meter.m1.extra",
    "ec..net",
    "EC.community1.net",
    "nx.community1.net",
    "ecp.community1.net",
    "ecp.01.community1.net",
    "ecp.-1.community1.net",
    "ecp.3.community1.agg",
    "ecp.3.ecp.2.community1.net",
    "",
  ])("is undefined for %j", (subject) => {
    expect(parseReadingSubject(subject)).toBeUndefined();
  });
});

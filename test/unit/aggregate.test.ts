import { describe, expect, it } from "vitest";
import { type Aggregate, aggregateFromJson, ecwatchAggregateFromJson, isEcwatchAggregate, netWatts, supersedes } from "../../src/domain/aggregate.js";

const aggregate: Aggregate = {
  communityId: "community1",
  genW: 5200,
  conW: 3100,
  netW: 2100,
  meters: 12,
  stale: 1,
  measuredAt: "2026-11-22T12:00:00.000Z",
  aggregatedAt: "2026-11-22T12:00:00.120Z",
  version: 42,
  epoch: 1795354800000,
};

describe("netWatts", () => {
  it("is positive for a surplus and negative for a deficit", () => {
    expect(netWatts(5200, 3100)).toBe(2100);
    expect(netWatts(1000, 4000)).toBe(-3000);
  });
});

describe("aggregateFromJson", () => {
  it("reads back an aggregate ecwatch wrote", () => {
    expect(aggregateFromJson(JSON.stringify(aggregate))).toEqual(aggregate);
  });

  it("fills the fields the prototype's JSON lacks: net from gen − con, one meter, none stale, version 0, epoch 0", () => {
    const prototype = JSON.stringify({ communityId: "community1", genW: 1000, conW: 4000, measuredAt: "2026-11-22T12:00:00Z" });
    expect(aggregateFromJson(prototype)).toEqual({
      communityId: "community1",
      genW: 1000,
      conW: 4000,
      netW: -3000,
      meters: 1,
      stale: 0,
      measuredAt: "2026-11-22T12:00:00Z",
      aggregatedAt: "",
      version: 0,
      epoch: 0,
    });
  });

  it("uses empty strings for a missing community id and timestamps", () => {
    const parsed = aggregateFromJson('{"genW":1,"conW":2}');
    expect(parsed).toMatchObject({ communityId: "", measuredAt: "", aggregatedAt: "", netW: -1 });
  });

  it("keeps a stored netW rather than recomputing it", () => {
    expect(aggregateFromJson('{"genW":10,"conW":2,"netW":7}')?.netW).toBe(7);
  });

  it.each(["not json", "null", "42", '"text"', "[]", '{"genW":1}', '{"conW":1}', '{"genW":"1","conW":2}'])("is undefined for %j", (text) => {
    expect(aggregateFromJson(text)).toBeUndefined();
  });
});

describe("supersedes", () => {
  const at = (epoch: number, version: number) => ({ epoch, version });

  it("anything replaces nothing", () => {
    expect(supersedes(at(0, 0), undefined)).toBe(true);
  });

  it("in one epoch, only a higher version replaces: a late or repeated one does not", () => {
    expect(supersedes(at(5, 7), at(5, 6))).toBe(true);
    expect(supersedes(at(5, 6), at(5, 6))).toBe(false);
    expect(supersedes(at(5, 3), at(5, 6))).toBe(false);
  });

  it("a higher epoch (a reset) replaces whatever its version; a lower one never does", () => {
    expect(supersedes(at(6, 1), at(5, 900))).toBe(true);
    expect(supersedes(at(4, 900), at(5, 1))).toBe(false);
  });

  it("the versions 5, 3, 6, 6, 4, 7 of one epoch keep 5, 6, 7", () => {
    let newest: { epoch: number; version: number } | undefined;
    const kept: number[] = [];
    for (const version of [5, 3, 6, 6, 4, 7]) {
      if (!supersedes(at(1, version), newest)) continue;
      newest = at(1, version);
      kept.push(version);
    }
    expect(kept).toEqual([5, 6, 7]);
  });
});

describe("isEcwatchAggregate", () => {
  it("accepts what ecwatch's aggregator writes, with or without an integer epoch", () => {
    expect(isEcwatchAggregate(aggregate, "community1")).toBe(true);
    expect(isEcwatchAggregate({ ...aggregate, epoch: 3 }, "community1")).toBe(true);
    expect(ecwatchAggregateFromJson(JSON.stringify(aggregate), "community1")).toEqual(aggregate);
  });

  it("refuses the prototype's aggregator's value, as Python's json.dumps writes it", () => {
    expect(ecwatchAggregateFromJson('{"genW": 5200, "conW": 3100, "measuredAt": "2026-11-22T12:00:00Z"}', "community1")).toBeUndefined();
  });

  it("refuses another community's aggregate", () => {
    expect(isEcwatchAggregate(aggregate, "community2")).toBe(false);
  });

  it.each<[string, Record<string, unknown>]>([
    ["a fractional watt", { genW: 5200.5 }],
    ["a netW that is not genW − conW", { netW: 2000 }],
    ["a missing meters count", { meters: undefined }],
    ["a negative stale count", { stale: -1 }],
    ["a measuredAt that is no time", { measuredAt: "noon" }],
    ["an empty aggregatedAt", { aggregatedAt: "" }],
    ["version 0", { version: 0 }],
    ["a version as text", { version: "42" }],
    ["a fractional epoch", { epoch: 1.5 }],
  ])("refuses %s", (_, change) => {
    expect(isEcwatchAggregate({ ...aggregate, ...change }, "community1")).toBe(false);
  });

  it.each(["not json", "null", "[]", '"text"'])("is undefined for %j", (text) => {
    expect(ecwatchAggregateFromJson(text, "community1")).toBeUndefined();
  });
});

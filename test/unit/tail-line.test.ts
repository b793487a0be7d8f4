import { Chalk } from "chalk";
import { describe, expect, it } from "vitest";
import type { Aggregate } from "../../src/domain/aggregate.js";
import { formatAggregateLine } from "../../src/commands/tail.js";

const plain = new Chalk({ level: 0 });
const colored = new Chalk({ level: 2 });
const ANSI = /\u001b\[/;

const aggregate = (patch: Partial<Aggregate> = {}): Aggregate => ({
  communityId: "community1",
  genW: 5200,
  conW: 3100,
  netW: 2100,
  meters: 12,
  stale: 0,
  measuredAt: "2026-11-22T12:34:56.000Z",
  aggregatedAt: "2026-11-22T12:34:56.100Z",
  version: 42,
  epoch: 1795354800000,
  ...patch,
});

describe("formatAggregateLine", () => {
  it("shows a surplus in kW with the time, community, gen, con, meters and version", () => {
    expect(formatAggregateLine(aggregate(), plain)).toBe("12:34:56  community1  surplus 2.10 kW  gen 5.20 kW  con 3.10 kW  meters 12  v42");
  });

  it("shows a deficit as a positive kW figure", () => {
    const line = formatAggregateLine(aggregate({ genW: 1000, conW: 4250, netW: -3250 }), plain);
    expect(line).toContain("deficit 3.25 kW");
    expect(line).not.toContain("surplus");
    expect(line).not.toContain("-3.25");
  });

  it("shows a balanced community as a surplus of 0.00 kW", () => {
    expect(formatAggregateLine(aggregate({ genW: 1000, conW: 1000, netW: 0 }), plain)).toContain("surplus 0.00 kW");
  });

  it("mentions stale meters only when there are some", () => {
    expect(formatAggregateLine(aggregate({ stale: 2 }), plain)).toContain("meters 12 stale 2  v42");
    expect(formatAggregateLine(aggregate({ stale: 0 }), plain)).not.toContain("stale");
  });

  it("shows dashes for the prototype's aggregates without a timestamp", () => {
    expect(formatAggregateLine(aggregate({ measuredAt: "" }), plain).startsWith("--:--:--  community1")).toBe(true);
  });

  it("has no ANSI codes at colour level 0", () => {
    expect(formatAggregateLine(aggregate({ stale: 1 }), plain)).not.toMatch(ANSI);
    expect(formatAggregateLine(aggregate({ netW: -5, stale: 1 }), plain)).not.toMatch(ANSI);
  });

  it("colours the balance when colours are on", () => {
    expect(formatAggregateLine(aggregate(), colored)).toMatch(ANSI);
  });
});

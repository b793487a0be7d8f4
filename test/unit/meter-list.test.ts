import { describe, expect, it } from "vitest";
import { meterList, parseMetersQuery, sortMeters } from "../../src/energy/meter-list.js";

/** The meter list of GET /communities/{id}/meters (issue 23), from stored snapshot values. */

const at = (second: number) => Date.UTC(2026, 10, 22, 12, 0, second);
/** A stored integrator whose newest reading is pending at `second`, 1-second gaps before it. */
const integrator = (genW: number, conW: number, second: number, intervalMs = 0) => ({ gaps: [1_000, 1_000], pending: [[genW, conW, at(second), second, intervalMs, 0]] });

describe("meterList", () => {
  it("merges shards and deltas as the aggregator does: per meter the newest reading wins", () => {
    const shard = JSON.stringify({ version: 3, meters: { a: integrator(100, 0, 10), b: integrator(0, 50, 10) } });
    const delta = JSON.stringify({ version: 4, meters: { a: integrator(120, 0, 11) } });
    const older = JSON.stringify({ version: 2, meters: { b: integrator(0, 999, 9) } });
    const list = meterList([delta, shard, older], 30_000)!;
    expect(list.measuredAtMs).toBe(at(11));
    expect(sortMeters(list.rows, "id").map((r) => [r.meterId, r.genW, r.conW, r.ageMs, r.stale])).toEqual([
      ["a", 120, 0, 0, false],
      ["b", 0, 50, 1_000, false],
    ]);
  });

  it("marks a meter stale once its reading no longer holds: cadence plus the tolerance, at least the floor", () => {
    // A declared 60 s meter holds 60 s + 30 s; a 1 s meter holds 1 s + the 30 s floor: 32 s behind, it no longer does.
    const meters = { slow: integrator(10, 0, 0, 60_000), fast: integrator(20, 0, 0), now: integrator(1, 0, 32) };
    const rows = meterList([JSON.stringify({ version: 1, meters })], 30_000)!.rows;
    expect(Object.fromEntries(rows.map((r) => [r.meterId, [r.stale, r.holdMs, r.cadenceMs]]))).toEqual({ slow: [false, 90_000, 60_000], fast: [true, 31_000, 1_000], now: [false, 31_000, 1_000] });
  });

  it("reads a meter stored before issue 17 (its newest reading only), with an unknown cadence", () => {
    const rows = meterList([JSON.stringify({ version: 1, meters: { old: [5, 7, at(0), 1] } })], 30_000)!.rows;
    expect(rows).toEqual([{ meterId: "old", genW: 5, conW: 7, netW: -2, measuredAtMs: at(0), cadenceMs: undefined, holdMs: 15 * 60_000 + 7.5 * 60_000, ageMs: 0, stale: false }]);
  });

  it("is undefined without a meter", () => {
    expect(meterList([], 30_000)).toBeUndefined();
    expect(meterList([JSON.stringify({ version: 1, meters: {} })], 30_000)).toBeUndefined();
  });
});

describe("parseMetersQuery", () => {
  const parse = (query: string) => parseMetersQuery(new URLSearchParams(query));
  it("defaults to exporters first and every meter", () => {
    expect(parse("")).toEqual({ ok: true, value: { sort: "-net", limit: 100_000 } });
    expect(parse("sort=stale&limit=7")).toEqual({ ok: true, value: { sort: "stale", limit: 7 } });
  });
  it.each(["sort=", "sort=up", "limit=-1", "limit=1e3", "limit=100001", "x=1", "sort=id&sort=net"])("refuses %s naming the parameter", (query) => {
    const parsed = parse(query);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toMatch(/sort|limit|"x"/);
  });
});

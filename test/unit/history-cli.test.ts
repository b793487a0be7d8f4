import { Chalk } from "chalk";
import { describe, expect, it } from "vitest";
import { formatEnergy, historyParams, historyTable, localStart, totalsOf } from "../../src/commands/history.js";
import type { BucketJson } from "../../src/energy/history-query.js";
import { lineChart, resample } from "../../src/tui/line-chart.js";

const plain = new Chalk({ level: 0 });
const bucket = (start: string, genWh: number, conWh: number, sharedWh: number): BucketJson => ({
  start,
  end: start,
  genWh,
  conWh,
  importWh: conWh,
  exportWh: genWh,
  sharedWh,
  gridImportWh: conWh - sharedWh,
  gridExportWh: genWh - sharedWh,
  selfSufficiency: conWh ? 1 - (conWh - sharedWh) / conWh : null,
  selfConsumption: genWh ? 1 - (genWh - sharedWh) / genWh : null,
  complete: true,
  late: 0,
});

describe("ecwatch history", () => {
  it("asks the API for what the flags say", () => {
    expect(String(historyParams({ since: 86_400_000, step: "15m" }))).toBe("from=-1d&step=15m");
    expect(String(historyParams({ since: 90 * 60_000, step: "1m", tz: "Europe/Berlin" }))).toBe("from=-1.5h&step=1m&tz=Europe%2FBerlin");
    expect(String(historyParams({ since: 100 * 60_000 + 1, step: "1h" }))).toBe("from=-6000001ms&step=1h");
    expect(String(historyParams({ from: "2026-11-21T00:00:00Z", to: "-1h", step: "1d" }))).toBe("from=2026-11-21T00%3A00%3A00Z&to=-1h&step=1d");
  });

  it("shows starts in the zone, energy with a unit that fits", () => {
    expect(localStart("2026-01-09T23:00:00.000Z", "Europe/Berlin")).toBe("2026-01-10 00:00");
    expect(localStart("2026-01-09T23:00:00.000Z", "UTC")).toBe("2026-01-09 23:00");
    expect(formatEnergy(160)).toBe("160.0 Wh");
    expect(formatEnergy(14_400)).toBe("14.40 kWh");
  });

  it("prints a table of the buckets and totals whose fractions come from the sums", () => {
    const buckets = [bucket("2026-01-10T00:00:00.000Z", 160, 70, 70), bucket("2026-01-10T00:15:00.000Z", 0, 100, 0)];
    expect(historyTable(buckets, "UTC", plain)).toEqual([
      "start             generation  consumption  grid import  grid export   shared  self-suff.  self-cons.",
      "2026-01-10 00:00    160.0 Wh      70.0 Wh       0.0 Wh      90.0 Wh  70.0 Wh     100.0 %      43.8 %",
      "2026-01-10 00:15      0.0 Wh     100.0 Wh     100.0 Wh       0.0 Wh   0.0 Wh       0.0 %           –",
    ]);
    expect(totalsOf(buckets)).toEqual({ genWh: 160, conWh: 170, gridImportWh: 100, gridExportWh: 90, sharedWh: 70, selfSufficiency: 1 - 100 / 170, selfConsumption: 1 - 90 / 160 });
  });
  it("marks a bucket that is not final yet, and one with late readings", () => {
    const buckets = [bucket("2026-01-10T00:00:00Z", 160, 70, 70), { ...bucket("2026-01-10T00:15:00Z", 10, 0, 0), complete: false, late: 2 }, { ...bucket("2026-01-10T00:30:00Z", 5, 0, 0), complete: false }];
    const rows = historyTable(buckets, "UTC", plain);
    expect(rows[1]).not.toContain("~");
    expect(rows[2]).toMatch(/~ not final: 2 late$/);
    expect(rows[3]).toMatch(/~ not final$/);
  });
});

describe("lineChart", () => {
  it("draws a ramp with labels on the y axis", () => {
    expect(lineChart([[0, 1, 2]], { height: 3, width: 10, format: (v) => v.toFixed(0) })).toEqual(["2 ┤  ╭", "1 ┤ ╭╯", "0 ┤─╯ "]);
  });

  it("draws a flat line, and several series on the same axes", () => {
    expect(lineChart([[1, 1, 1]], { height: 2, width: 10, format: (v) => v.toFixed(0) })).toEqual(["2 ┤   ", "1 ┤───"]);
    const lines = lineChart([[0, 0], [2, 2]], { height: 3, width: 10, format: (v) => v.toFixed(0), paint: (i, t) => `${i}${t}` });
    expect(lines).toEqual(["2 ┤1─1─", "1 ┤  ", "0 ┤0─0─"]);
  });

  it("averages a series longer than the width into columns, and draws nothing of nothing", () => {
    expect(resample([1, 3, 5, 7], 2)).toEqual([2, 6]);
    expect(resample([1, 2], 5)).toEqual([1, 2]);
    expect(lineChart([[]], { height: 5, width: 10 })).toEqual([]);
  });
});

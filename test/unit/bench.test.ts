import { describe, expect, it } from "vitest";
import { benchReport, chosenRun, formatReport, nextRate } from "../../src/bench/bench-report.js";
import { LatencyHistogram } from "../../src/bench/latency.js";
import { steady } from "../../src/bench/load-shape.js";
import { intervalForRate, type RunReport, runPassed } from "../../src/bench/pipeline-run.js";
import { parseStat } from "../../src/bench/process-stats.js";

const latency = { count: 10, p50: 2, p90: 3, p99: 9, p999: 12, max: 15 };
function run(targetRate: number, overrides: Partial<RunReport> = {}): RunReport {
  return {
    targetRate,
    scheduledPerSec: targetRate,
    publishedPerSec: targetRate,
    aggregatedPerSec: targetRate - 10,
    published: targetRate * 10,
    lost: 0,
    deadLetters: 0,
    totalsExact: true,
    keptUp: true,
    latencyMs: latency,
    hops: { publishToStored: latency, storedToAnnounced: latency, announcedToClient: latency },
    stages: [{ durationMs: 10_000, fromRate: targetRate, toRate: targetRate, scheduled: targetRate * 10, published: targetRate * 10, measuredRate: targetRate }],
    sse: { clients: 5, connected: 5, events: 100, missedUpdates: 0, behind: 0, deliveryMs: latency },
    ...overrides,
  };
}

describe("a run passes", () => {
  it("with nothing lost, exact totals, kept up, at ≥ 95 % of the rate, p99 within a second", () => {
    expect(runPassed(run(10_000))).toBe(true);
    expect(runPassed(run(10_000, { lost: 1 }))).toBe(false);
    expect(runPassed(run(10_000, { totalsExact: false }))).toBe(false);
    expect(runPassed(run(10_000, { keptUp: false }))).toBe(false);
    expect(runPassed(run(10_000, { publishedPerSec: 9_400 }))).toBe(false);
    expect(runPassed(run(10_000, { latencyMs: { ...latency, p99: 1_200 } }))).toBe(false); // queueing, not sustained
  });

  it("meters × communities at the rate give the interval", () => {
    expect(intervalForRate(10, 20, 10_000)).toBe(20);
    expect(intervalForRate(1, 1, 1_000_000)).toBe(1);
  });
});

describe("--find-max", () => {
  it("ramps up by 25 % while runs pass, up to the limit", () => {
    expect(nextRate([run(10_000)], 100_000)).toBe(12_500);
    expect(nextRate([run(10_000), run(12_500, { lost: 3 })], 100_000)).toBeUndefined();
    expect(nextRate([run(90_000)], 100_000)).toBeUndefined();
  });

  it("reports the fastest run that passed, with every step", () => {
    const steps = [run(10_000), run(12_500), run(15_625, { keptUp: false })];
    expect(chosenRun(steps).targetRate).toBe(12_500);
    const baseline = { readings: 1000, readingsPerSec: 25_000, latencyMs: latency, latencyAtRate: 10_000 };
    const report = benchReport(steps, baseline, [], "local", { communities: 1, meters: 1, rate: 10_000, durationMs: 1_000, clients: 5, phase: "spread", findMax: true, shape: steady(10_000, 1_000) });
    expect(report.readingsPerSec).toBe(12_490);
    expect(report.ratio).toBe(0.5);
    expect(report.passed).toBe(true);
    expect(report.steps?.map((s) => s.passed)).toEqual([true, true, false]);
    expect(formatReport(report)).toMatch(/highest zero-loss rate +12,490\/s/);
  });
});

describe("measuring", () => {
  it("reads CPU ticks and RSS pages from /proc/<pid>/stat, whatever the command name holds", () => {
    const fields = Array.from({ length: 50 }, () => "0");
    fields[11] = "150"; // utime, field 14
    fields[12] = "50"; // stime, field 15
    fields[21] = "2560"; // rss in pages, field 24
    const sample = parseStat(`42 (node (x) y) ${fields.join(" ")}`);
    expect(sample).toEqual({ cpuMs: 2_000, rssBytes: 2560 * 4096 });
  });

  it("keeps latency percentiles in ms from an HDR histogram", () => {
    const histogram = new LatencyHistogram();
    for (let ms = 1; ms <= 100; ms += 1) histogram.record(ms);
    const summary = histogram.summary();
    expect(summary.count).toBe(100);
    expect(summary.p50).toBeCloseTo(50, 0);
    expect(summary.p99).toBeCloseTo(99, 0);
    expect(summary.max).toBeCloseTo(100, 0);
    expect(new LatencyHistogram().summary()).toEqual({ count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });
  });
});

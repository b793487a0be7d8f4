import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type BenchReport, benchReport, type MeasuredReport } from "../../src/bench/bench-report.js";
import { formatChecks, metricValue, runChecks, thresholdChecks } from "../../src/bench/checks.js";
import { junitXml, markdownSummary } from "../../src/bench/ci-reports.js";
import { dueAtMs, type LoadShape, readingsPerStage, stageAt, steady } from "../../src/bench/load-shape.js";
import { benchSettings, parsePlanText, PlanError, type PlanFlags } from "../../src/bench/plan.js";
import type { RunReport } from "../../src/bench/pipeline-run.js";
import { normalisedFigures, parseMaxRegression, regressionChecks } from "../../src/bench/regression.js";
import { parseThreshold } from "../../src/bench/thresholds.js";
import type { RunSink } from "../../src/bench/run-sink.js";
import { TimedSink } from "../../src/bench/timed-sink.js";
import type { Emission } from "../../src/sim/sources.js";
import { readJunit } from "../helpers/junit.js";
import { checkProperty } from "../property/property.js";

const latency = (p50: number, p99: number) => ({ count: 100, p50, p90: p50, p99, p999: p99, max: p99 });

function run(overrides: Partial<RunReport> = {}): RunReport {
  return {
    targetRate: 400,
    scheduledPerSec: 325,
    publishedPerSec: 325,
    aggregatedPerSec: 320,
    published: 1_950,
    lost: 0,
    deadLetters: 0,
    totalsExact: true,
    keptUp: true,
    latencyMs: latency(8, 40),
    hops: { publishToStored: latency(1, 5), storedToAnnounced: latency(2, 10), announcedToClient: latency(3, 20) },
    stages: [
      { durationMs: 3_000, fromRate: 100, toRate: 400, scheduled: 750, published: 748, measuredRate: 249 },
      { durationMs: 3_000, fromRate: 400, toRate: 400, scheduled: 1_200, published: 1_202, measuredRate: 401 },
    ],
    sse: { clients: 5, connected: 5, events: 100, missedUpdates: 0, behind: 0, deliveryMs: latency(3, 20) },
    ...overrides,
  };
}

const shape: LoadShape = { startRate: 100, stages: [{ durationMs: 3_000, rate: 400 }, { durationMs: 3_000, rate: 400 }] };
const baseline = { readings: 2_000, readingsPerSec: 800, latencyMs: latency(1, 4), latencyAtRate: 400 };
const processes = [
  { key: "bench" as const, name: "bench", pid: 1, cpuMs: 900, cpuPercent: 15, peakRssMb: 120 },
  { key: "aggregator" as const, name: "ecwatch aggregate", pid: 2, cpuMs: 1_000, cpuPercent: 17, peakRssMb: 100 },
  { key: "nats" as const, name: "nats-server", pid: 3, cpuMs: 950, cpuPercent: 16, peakRssMb: 20 },
];
function measured(overrides: Partial<RunReport> = {}): MeasuredReport {
  return benchReport([run(overrides)], baseline, processes, "local", { communities: 2, meters: 20, rate: 400, durationMs: 6_000, clients: 5, phase: "spread", findMax: false, shape });
}
const withChecks = (report: MeasuredReport, expressions: string[]): BenchReport => ({ ...report, checks: [...runChecks(report), ...thresholdChecks(report, expressions.map(parseThreshold))] });

describe("load shapes", () => {
  it("each stage ramps linearly from the previous stage's rate: its readings are the area under the ramp", () => {
    expect(readingsPerStage(shape)).toEqual([750, 1_200]);
    expect(readingsPerStage({ startRate: 0, stages: [{ durationMs: 10_000, rate: 1_000 }, { durationMs: 5_000, rate: 0 }] })).toEqual([5_000, 2_500]);
    expect(readingsPerStage(steady(250, 4_000))).toEqual([1_000]);
  });

  it("the n-th reading is due when the ramps' area reaches n", () => {
    expect(dueAtMs(steady(1_000, 10_000), 500)).toBeCloseTo(500);
    // 0 → 1,000/s over 10 s: n(t) = 50·t², so 1,250 readings by 5 s.
    expect(dueAtMs({ startRate: 0, stages: [{ durationMs: 10_000, rate: 1_000 }] }, 1_250)).toBeCloseTo(5_000);
    expect(dueAtMs(shape, 750)).toBeCloseTo(3_000);
    expect(dueAtMs(shape, 1_350)).toBeCloseTo(4_500);
    expect(stageAt(shape, 2_999)).toBe(0);
    expect(stageAt(shape, 3_000)).toBe(1);
    expect(stageAt(shape, 60_000)).toBe(1);
  });

  it("dueAtMs is the inverse of the scheduled readings, for ramps up, down and flat", () => {
    const stage = fc.record({ durationMs: fc.integer({ min: 1_000, max: 60_000 }), rate: fc.integer({ min: 0, max: 50_000 }) });
    checkProperty(
      "readings scheduled by dueAtMs(n) are n",
      fc.property(fc.integer({ min: 0, max: 50_000 }), fc.array(stage, { minLength: 1, maxLength: 4 }), fc.double({ min: 0, max: 1, noNaN: true }), (startRate, stages, share) => {
        const loadShape = { startRate, stages };
        const total = readingsPerStage(loadShape).reduce((a, b) => a + b, 0);
        fc.pre(total > 0);
        const n = share * total;
        const t = dueAtMs(loadShape, n);
        // The area under the shape up to t, integrated numerically.
        let area = 0;
        let from = startRate;
        let start = 0;
        for (const s of stages) {
          const end = start + s.durationMs;
          const upTo = Math.min(Math.max(t, start), end);
          const rateAt = (ms: number) => from + ((s.rate - from) * (ms - start)) / s.durationMs;
          area += (((rateAt(start) + rateAt(upTo)) / 2) * (upTo - start)) / 1000;
          from = s.rate;
          start = end;
        }
        expect(area).toBeCloseTo(n, 3);
      }),
      1_000,
    );
  });
});

describe("the run's stopwatch", () => {
  it("counts readings per stage, times publish → stored, and gives each community's storing time of a data time once", () => {
    let now = 1_000;
    let stage = 0;
    const acks: Array<() => void> = [];
    const inner: RunSink = { publish: (m, done) => void acks.push(() => done(m)), close: () => undefined };
    const sink = new TimedSink(inner, 2, () => stage, () => now);
    const reading = (communityId: string, measuredAtMs: number): Emission => ({ subject: "s", payload: "{}", dedupId: undefined, counted: { communityId, meterId: "m1", state: { genW: 1, conW: 0, measuredAtMs, seq: 1 } } });
    const done: Emission[] = [];
    sink.publish(reading("c1", 10), (m) => done.push(m));
    sink.publish(reading("c1", 20), (m) => done.push(m));
    stage = 1;
    sink.publish(reading("c1", 30), (m) => done.push(m));
    sink.publish(reading("c2", 20), (m) => done.push(m));
    now = 1_007;
    for (const ack of acks) ack();
    expect(done).toHaveLength(4);
    expect(sink.publishedPerStage).toEqual([2, 2]);
    expect(sink.stored.summary().p50).toBeCloseTo(7, 1);
    // An aggregate of c1 with measuredAt 20 forgets c1's earlier data times too.
    expect(sink.takeStoredAt("c1", 20)).toBe(1_007);
    expect(sink.takeStoredAt("c1", 10)).toBeUndefined();
    expect(sink.takeStoredAt("c1", 30)).toBe(1_007); // a later one is kept
    expect(sink.takeStoredAt("c2", 20)).toBe(1_007);
  });
});

describe("plan files", () => {
  const flags: PlanFlags = { communities: 10, meters: 100, clients: 100, phase: "spread", rate: 10_000, duration: 10_000, given: new Set() };
  const yaml = "communities: 2\nmeters: 20\nphase: aligned\nstartRate: 100\nstages:\n  - { duration: 3s, rate: 400 }\n  - { duration: 3s, rate: 400 }\nthresholds: [lost==0, 'e2e.p99<500ms']\n";

  it("reads YAML and JSON into settings; flags given on the command line override the plan", () => {
    const plan = parsePlanText(yaml, "plan.yaml");
    expect(parsePlanText(JSON.stringify({ communities: 2, meters: 20, phase: "aligned", startRate: 100, stages: [{ duration: "3s", rate: 400 }, { duration: "3s", rate: 400 }], thresholds: ["lost==0", "e2e.p99<500ms"] }), "plan.json")).toEqual(plan);
    const settings = benchSettings(plan, flags);
    expect(settings).toMatchObject({ communities: 2, meters: 20, clients: 100, phase: "aligned", shape });
    expect(settings.thresholds.map((t) => t.expression)).toEqual(["lost==0", "e2e.p99<500ms"]);
    const overridden = benchSettings(plan, { ...flags, communities: 3, phase: "spread", rate: 50, threshold: [parseThreshold("behind==0")], given: new Set(["communities", "phase", "rate"]) });
    expect(overridden).toMatchObject({ communities: 3, meters: 20, phase: "spread", shape: steady(50, 10_000) });
    expect(overridden.thresholds.map((t) => t.expression)).toEqual(["lost==0", "e2e.p99<500ms", "behind==0"]);
    // Without stages, the steady --rate and --duration; startRate defaults to the first stage's rate.
    expect(benchSettings({}, flags).shape).toEqual(steady(10_000, 10_000));
    expect(benchSettings(parsePlanText("stages: [{duration: 2s, rate: 30}]", "p.yaml"), flags).shape).toEqual(steady(30, 2_000));
  });

  it.each([
    ["communities: 0", "communities: expected a whole number from 1 to 10000"],
    ["meters: many", "meters: expected a whole number"],
    ["phase: burst", "phase: expected spread or aligned"],
    ["startRate: -1", "startRate: expected readings/s"],
    ["stages: []", "stages: expected a list of {duration, rate}"],
    ["stages: [{duration: 2s, rate: 10}, {duration: 10, rate: 10}]", "stages[1].duration: expected a duration of at least 1s"],
    ["stages: [{duration: 2s, rate: fast}]", "stages[0].rate: expected readings/s"],
    ["stages: [{duration: 2s, rate: 10, vus: 5}]", "stages[0].vus: not a stage key"],
    ["thresholds: [lost==0, p95<5]", 'thresholds[1]: "p95<5": no metric "p95"'],
    ["faults: duplicate=2", "faults: "],
    ["vus: 10", "vus: not a plan key; the keys are communities, meters"],
    ["- 1\n- 2", "the plan must be a mapping"],
    ["stages: [{duration: 2s, rate: 1", "not valid YAML"],
  ])("rejects %j naming the field: %s", (text, message) => {
    expect(() => parsePlanText(text, "plan.yaml")).toThrow(PlanError);
    expect(() => parsePlanText(text, "plan.yaml")).toThrow(message);
  });

  it("rejects a plan whose stages schedule nothing", () => {
    expect(() => benchSettings(parsePlanText("stages: [{duration: 2s, rate: 0}]", "p.yaml"), flags)).toThrow("every rate is 0");
  });
});

describe("checks", () => {
  it("reads each metric of the issue's table from the report", () => {
    const report = measured({ lost: 3, totalsExact: false });
    expect(metricValue(report, "lost")).toBe(3);
    expect(metricValue(report, "totals")).toBe(0);
    expect(metricValue(report, "behind")).toBe(0);
    expect(metricValue(report, "rate")).toBe(320);
    expect(metricValue(report, "ratio")).toBe(0.4);
    expect(metricValue(report, "e2e.p99")).toBe(40);
    expect(metricValue(report, "sse.p50")).toBe(3);
    expect(metricValue(report, "cpu.aggregator")).toBe(17);
    expect(metricValue(report, "rss.nats")).toBe(20);
    expect(metricValue(report, "cpu.api")).toBeUndefined(); // not started here: not measured
  });

  it("prints ✓/✗ with the measured value; a metric not measured fails", () => {
    const checks = thresholdChecks(measured(), ["e2e.p99<0.001ms", "lost==0", "rss.api<100MB", "cpu.aggregator<=17%"].map(parseThreshold));
    expect(checks.map((c) => c.passed)).toEqual([false, true, false, true]);
    expect(formatChecks(checks).split("\n")).toEqual([
      "✗ e2e.p99<0.001ms       40 ms (limit < 0.001 ms)",
      "✓ lost==0               0",
      "✗ rss.api<100MB         not measured (limit < 100 MB)",
      "✓ cpu.aggregator<=17%   17 %",
    ]);
    expect(runChecks(measured({ lost: 1 })).map((c) => c.passed)).toEqual([false, true]);
    expect(runChecks(measured({ totalsExact: false })).map((c) => c.passed)).toEqual([true, false]);
  });
});

describe("regressions", () => {
  it("normalises by the run's own raw baseline: ratio, e2e ÷ raw hop, CPU per reading ÷ raw time per reading", () => {
    // Pipeline CPU 1,950 ms over 1,950 readings = 1 ms a reading; the baseline's 800/s = 1.25 ms a reading.
    expect(normalisedFigures(measured())).toEqual({ e2eP50PerRaw: 8, e2eP99PerRaw: 10, cpuPerReading: 0.8 });
    // The ratio only of --find-max: at a fixed rate a faster runner would lower it.
    expect(normalisedFigures({ ...measured(), config: { findMax: true } }).ratio).toBe(0.4);
    expect(normalisedFigures({ ...measured(), processes: [] }).cpuPerReading).toBeUndefined();
  });

  it("fails a figure that got worse by more than the limit, in either direction of better", () => {
    const saved = { ratio: 0.5, e2eP50PerRaw: 8, e2eP99PerRaw: 8, cpuPerReading: 0.8 };
    const checks = regressionChecks({ ratio: 0.4, e2eP50PerRaw: 8.5, e2eP99PerRaw: 10, cpuPerReading: 0.7 }, saved, 10);
    expect(checks.map((c) => [c.name, c.passed])).toEqual([
      ["ratio to the raw baseline within 10 % of the saved run", false],
      ["e2e p50 ÷ raw hop p50 within 10 % of the saved run", true],
      ["e2e p99 ÷ raw hop p99 within 10 % of the saved run", false],
      ["CPU per reading ÷ raw time per reading within 10 % of the saved run", true],
    ]);
    expect(checks[0]).toMatchObject({ measured: "0.4 (saved 0.5, -20 %)", limit: ">= 0.45" });
    expect(regressionChecks({ ratio: 0.4, e2eP50PerRaw: 1, e2eP99PerRaw: 1 }, saved, 25).every((c) => c.passed)).toBe(true);
  });

  it("reads --max-regression as a percentage", () => {
    expect(parseMaxRegression("15%")).toBe(15);
    expect(parseMaxRegression("2.5")).toBe(2.5);
    expect(parseMaxRegression("-5%")).toBeUndefined();
    expect(parseMaxRegression("ten")).toBeUndefined();
  });
});

describe("CI reports", () => {
  function junitOf(xml: string) {
    const file = join(mkdtempSync(join(tmpdir(), "ecwatch-junit-")), "bench.xml");
    writeFileSync(file, xml);
    return readJunit(file);
  }

  it("JUnit: a test case per check, a <failure> with the measured value and the limit, the figures in system-out", () => {
    const report = withChecks(measured(), ["e2e.p99<0.001ms", "lost==0"]);
    const junit = junitOf(junitXml(report, "2026-12-06T07:00:00.000Z"));
    expect(junit.suite).toMatchObject({ name: "ecwatch bench", tests: "4", failures: "1", timestamp: "2026-12-06T07:00:00.000Z" });
    expect(junit.cases.map((c) => [c.classname, c.name, c.failure?.message])).toEqual([
      ["ecwatch.bench.run", "nothing lost", undefined],
      ["ecwatch.bench.run", "served totals exact", undefined],
      ["ecwatch.bench.threshold", "e2e.p99<0.001ms", "e2e.p99<0.001ms: measured 40 ms, limit < 0.001 ms"],
      ["ecwatch.bench.threshold", "lost==0", undefined],
    ]);
    expect(junit.out).toContain("readings/s through the pipeline");
    expect(junit.out).toContain("1. 3 s at 100 → 400/s: 750 readings scheduled, 748 published, measured 249/s");
  });

  it("JUnit escapes what a check's name or the figures hold", () => {
    const report: BenchReport = { ...measured(), config: { ...measured().config, scenario: "a]]>b" }, checks: [{ kind: "threshold", name: `a<b&"c'`, passed: false, measured: "<1>", limit: "]]>" }] };
    const junit = junitOf(junitXml(report, "now"));
    expect(junit.cases[0]).toMatchObject({ name: `a<b&"c'`, failure: { message: `a<b&"c': measured <1>, limit ]]>` } });
  });

  it("the Markdown summary has a row per check and the figures", () => {
    const summary = markdownSummary(withChecks(measured(), ["e2e.p99<0.001ms", "cpu.aggregator<50%"]));
    expect(summary).toContain("## ecwatch bench: ❌ 1 of 4 checks failed");
    expect(summary).toContain("| ❌ | e2e.p99<0.001ms | 40 ms | < 0.001 ms |");
    expect(summary).toContain("| ✅ | cpu.aggregator<50% | 17 % | < 50 % |");
    expect(summary).toContain("| readings/s through the pipeline | 320/s (0.4 × the raw baseline's 800/s) |");
    expect(markdownSummary(withChecks(measured(), []))).toContain("✅ all 2 checks passed");
  });
});

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import { NO_FAULTS, parseFaults } from "../../src/sim/faults.js";
import type { ReadingSink } from "../../src/wire/reading-sink.js";
import { BUILT_IN_SCENARIOS } from "../../src/sim/scenario-names.js";
import { type SimulationPlan, loadScenario, planSimulation, reportOf } from "../../src/sim/setup.js";
import { Simulator } from "../../src/sim/simulator.js";
import { ModelSource } from "../../src/sim/model-source.js";
import { type Tick } from "../../src/sim/sources.js";
import { TraceSource } from "../../src/sim/trace-source.js";
import { formatTraceLine } from "../../src/sim/trace.js";

const T0 = Date.UTC(2026, 5, 21, 11);
const dir = mkdtempSync(join(tmpdir(), "ecwatch-setup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const plan = (patch: Partial<SimulationPlan> = {}): SimulationPlan => ({
  meters: 5,
  communities: 1,
  seed: 1,
  level: "meter",
  intervalMs: 1_000,
  startMs: T0,
  durationMs: 2_000,
  faults: NO_FAULTS,
  ...patch,
});

function usageError(run: () => unknown): UsageError {
  try {
    run();
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw new Error(`expected a UsageError, got ${String(err)}`);
  }
  throw new Error("expected a UsageError");
}

function drain(source: { next(): Tick | undefined }): Tick[] {
  const ticks: Tick[] = [];
  for (let tick = source.next(); tick; tick = source.next()) ticks.push(tick);
  return ticks;
}

const okSink: ReadingSink = { publish: (message, done) => done(message) };

describe("loadScenario", () => {
  it.each([...BUILT_IN_SCENARIOS])("loads the built-in scenario %s by name", (name) => {
    expect(loadScenario(name).name).toBe(name);
  });

  it("rejects an unknown name with a UsageError (exit code 2) listing the built-in scenarios", () => {
    const err = usageError(() => loadScenario("metropolis"));
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe("--scenario metropolis: no such scenario or file.");
    expect(err.hint).toContain("village, apartment-block, business-park, mixed-cadence");
  });

  it("names the bad field of a scenario file", () => {
    const path = file("bad-kind.json", JSON.stringify({ name: "x", location: { latitude: 48, longitude: 11 }, groups: [{ count: 2, kind: "household", annualKwh: 3000 }, { count: 1, kind: "factory", annualKwh: 1 }] }));
    const err = usageError(() => loadScenario(path));
    expect(err.message).toBe(`--scenario ${path}: groups[1].kind must be one of household, business.`);
  });

  it("says when a scenario file is not JSON", () => {
    const path = file("not-json.json", "{ name: village");
    expect(usageError(() => loadScenario(path)).message).toMatch(new RegExp(`^--scenario ${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: not valid JSON \\(`));
  });

  it("loads a valid scenario file by path", () => {
    const path = file("tiny.json", JSON.stringify({ name: "tiny", location: { latitude: 50, longitude: 8 }, groups: [{ count: 2, kind: "business", annualKwh: 10_000 }] }));
    expect(loadScenario(path)).toEqual({ name: "tiny", location: { latitude: 50, longitude: 8 }, groups: [{ count: 2, kind: "business", annualKwh: 10_000 }] });
  });
});

describe("planSimulation: models", () => {
  it("builds a model source from a built-in scenario for N communities", () => {
    const simulation = planSimulation(plan({ scenario: "village", communities: 2 }));
    expect(simulation.describe).toBe("2 × village (40 meters), meter readings");
    expect(simulation.models).toBeInstanceOf(ModelSource);
    expect(simulation.source).toBe(simulation.models);
    expect(simulation.faults).toBeUndefined();
    const ticks = drain(simulation.source);
    expect(ticks.map((t) => t.atMs)).toEqual([T0, T0 + 1_000]);
    expect(ticks[0]!.emissions).toHaveLength(80);
    expect(new Set(ticks[0]!.emissions.map((e) => e.subject.split(".")[1]))).toEqual(new Set(["community1", "community2"]));
  });

  it("uses the default scenario with --meters when no scenario is named", () => {
    const simulation = planSimulation(plan({ meters: 7 }));
    expect(simulation.describe).toBe("1 × default (7 meters), meter readings");
    expect(simulation.source.next()!.emissions).toHaveLength(7);
  });

  it("publishes one community-level reading per community at that level", () => {
    const simulation = planSimulation(plan({ communities: 3, level: "community" }));
    expect(simulation.describe).toBe("3 × default (5 meters), community readings");
    expect(simulation.source.next()!.emissions.map((e) => e.subject)).toEqual(["ec.community1.net", "ec.community2.net", "ec.community3.net"]);
  });

  it("refuses a scenario whose groups set their own interval at community level, naming the group", () => {
    const err = usageError(() => planSimulation(plan({ scenario: "mixed-cadence", level: "community" })));
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe("--level community sends one reading per community every --interval; the scenario's groups[0].intervalMs needs --level meter.");
  });

  it("simulates the mixed-cadence scenario with spread phases and jitter, saying so", () => {
    const simulation = planSimulation(plan({ scenario: "mixed-cadence", phase: "spread", jitter: 0.1, durationMs: 3_600_000 }));
    expect(simulation.describe).toBe("1 × mixed-cadence (32 meters), meter readings, spread phases, jitter ±10 %");
    expect(simulation.ownIntervals).toBe(true);
    expect(planSimulation(plan({ scenario: "village" })).ownIntervals).toBeUndefined();
    const payloads = drain(simulation.source).flatMap((t) => t.emissions.map((e) => JSON.parse(e.payload) as { meterId: string; intervalMs?: number; averaged?: boolean }));
    const intervals = new Map(payloads.map((p) => [p.meterId, `${p.intervalMs}/${p.averaged ?? false}`]));
    expect(intervals.size).toBe(32);
    expect(new Set(intervals.values())).toEqual(new Set(["900000/true", "60000/false", "2000/false", "5000/false", "10000/false"]));
  });

  it("rejects a bad scenario name with a UsageError", () => {
    expect(usageError(() => planSimulation(plan({ scenario: "no-such-place" }))).message).toBe("--scenario no-such-place: no such scenario or file.");
  });

  it("rejects a scenario file with a bad field, naming the field", () => {
    const path = file("bad-battery.json", JSON.stringify({
      name: "x",
      location: { latitude: 48, longitude: 11 },
      groups: [{ count: 1, kind: "household", annualKwh: 3000 }, { count: 1, kind: "household", annualKwh: 3000 }, { count: 1, kind: "household", annualKwh: 3000, pvKwp: 5, battery: { capacityKwh: -1, powerKw: 3 } }],
    }));
    const err = usageError(() => planSimulation(plan({ scenario: path })));
    expect(err.message).toContain("groups[2].battery.capacityKwh");
    expect(err.exitCode).toBe(2);
  });

  it("starts now, aligned down to the interval, without --start", () => {
    const now = Date.UTC(2026, 5, 21, 11, 7, 31, 250);
    const simulation = planSimulation(plan({ startMs: undefined, intervalMs: 60_000 }), now);
    expect(simulation.source.next()!.atMs).toBe(Date.UTC(2026, 5, 21, 11, 7));
  });

  it("runs endlessly without a duration", () => {
    const simulation = planSimulation(plan({ durationMs: undefined }));
    let last: Tick | undefined;
    for (let i = 0; i < 300; i += 1) last = simulation.source.next();
    expect(last?.atMs).toBe(T0 + 299_000);
  });

  it("exposes the fault injector only when faults are active", () => {
    const simulation = planSimulation(plan({ faults: parseFaults("dropout=1") }));
    expect(simulation.faults).toBeDefined();
    expect(drain(simulation.source).every((t) => t.emissions.length === 0)).toBe(true);
    expect(simulation.faults!.counts.dropout).toBe(10);
  });

  it("gives the same readings for the same plan", () => {
    const payloads = () => drain(planSimulation(plan({ scenario: "village", durationMs: 5_000, faults: parseFaults("duplicate=0.1,skew=1s") })).source).flatMap((t) => t.emissions.map((e) => e.payload));
    expect(payloads()).toEqual(payloads());
  });
});

describe("planSimulation: replay", () => {
  const at = (ms: number) => new Date(ms).toISOString();
  const line = (meterId: string, ms: number) =>
    formatTraceLine({ subject: `ec.community1.meter.${meterId}`, msgId: `community1.${meterId}.${ms}`, data: { meterId, communityId: "community1", genW: 10, conW: 20, measuredAt: at(ms), seq: ms } });
  const TRACE = [line("meter001", T0), line("meter002", T0), line("meter001", T0 + 1_000), ""].join("\n");

  it("replays a trace file at its recorded data time with originalTime", () => {
    const path = file("day.ndjson", TRACE);
    const simulation = planSimulation(plan({ replay: path, startMs: undefined, originalTime: true }));
    expect(simulation.source).toBeInstanceOf(TraceSource);
    expect(simulation.models).toBeUndefined();
    expect(simulation.faults).toBeUndefined();
    expect(simulation.describe).toBe(`replay of ${path} (3 messages)`);
    expect(drain(simulation.source).map((t) => [t.atMs, t.emissions.length])).toEqual([[T0, 2], [T0 + 1_000, 1]]);
  });

  it("moves a replay to now by default, so it is newer than what the stream holds", () => {
    const now = Date.UTC(2026, 10, 22, 15, 0, 0, 400);
    const ticks = drain(planSimulation(plan({ replay: file("now.ndjson", TRACE), startMs: undefined }), now).source);
    expect(ticks.map((t) => t.atMs)).toEqual([Date.UTC(2026, 10, 22, 15), Date.UTC(2026, 10, 22, 15, 0, 1)]);
  });

  it("rebases a replay to --start", () => {
    const start = Date.UTC(2026, 11, 1);
    const ticks = drain(planSimulation(plan({ replay: file("rebase.ndjson", TRACE), startMs: start })).source);
    expect(ticks.map((t) => t.atMs)).toEqual([start, start + 1_000]);
    expect(JSON.parse(ticks[1]!.emissions[0]!.payload)).toMatchObject({ measuredAt: at(start + 1_000), seq: start + 1_000 });
  });

  it("names the bad line of a trace", () => {
    const path = file("bad.ndjson", [line("meter001", T0), '{"subject":"ec.community1.net"}'].join("\n"));
    expect(usageError(() => planSimulation(plan({ replay: path }))).message).toBe(`--replay ${path}: line 2: data is required.`);
  });

  it("says when the trace file cannot be read", () => {
    const path = join(dir, "missing.ndjson");
    expect(usageError(() => planSimulation(plan({ replay: path }))).message).toBe(`--replay ${path}: cannot read it (ENOENT).`);
  });
});

describe("reportOf", () => {
  it("reports acked readings, errors, the ground truth, the models' energy rounded to Wh and the energy by the rule, without faults when none are active", async () => {
    const simulation = planSimulation(plan({ scenario: "village", intervalMs: 60_000, durationMs: 3_600_000 }));
    const simulator = new Simulator(okSink, simulation.source, { speed: Number.POSITIVE_INFINITY, staleAfterMs: 30_000 });
    await simulator.start();
    const report = reportOf(simulator, simulation);
    expect(Object.keys(report).sort()).toEqual(["communities", "energy", "errors", "published", "truthEnergy"]);
    expect(report.truthEnergy).toEqual(simulator.truth.energy());
    // The rule's energy, final up to a grace (3 min) before the last reading: less than the models' hour, most of it.
    expect(report.truthEnergy.community1!.genWh / 1000).toBeGreaterThan(0.85 * report.energy!.community1!.genKwh);
    expect(report.truthEnergy.community1!.genWh / 1000).toBeLessThan(report.energy!.community1!.genKwh);
    expect(report.published).toBe(60 * 40);
    expect(report.errors).toBe(0);
    expect(report.communities).toEqual(simulator.totals());
    expect(report.communities.community1).toMatchObject({ meters: 40, stale: 0 });
    const energy = report.energy!.community1!;
    const raw = simulation.models!.energyByCommunity().community1!;
    expect(energy.genKwh).toBe(Math.round(raw.genKwh * 1000) / 1000);
    expect(energy.conKwh).toBe(Math.round(raw.conKwh * 1000) / 1000);
    expect(energy.genKwh).not.toBe(raw.genKwh);
    expect(energy.genKwh).toBeGreaterThan(10);
    expect(energy.peakSurplusW).toBe(raw.peakSurplusW);
  });

  it("includes the fault counts when faults are active, and the errors", async () => {
    const simulation = planSimulation(plan({ durationMs: 60_000, faults: parseFaults("dropout=0.2,duplicate=0.2") }));
    let calls = 0;
    const flaky: ReadingSink = { publish: (message, done) => done(message, ++calls % 10 === 0 ? new Error("no ack") : undefined) };
    const simulator = new Simulator(flaky, simulation.source, { speed: Number.POSITIVE_INFINITY, staleAfterMs: 30_000 });
    await simulator.start();
    const report = reportOf(simulator, simulation);
    expect(report.faults).toBe(simulation.faults!.counts);
    expect(report.faults!.dropout).toBeGreaterThan(0);
    expect(report.faults!.duplicate).toBeGreaterThan(0);
    expect(report.errors).toBe(Math.floor(calls / 10));
    expect(report.published).toBe(calls - report.errors);
  });

  it("has no energy for a replay", async () => {
    const path = file("energy.ndjson", formatTraceLine({ subject: "ec.community1.net", data: { communityId: "community1", genW: 5, conW: 3, measuredAt: new Date(T0).toISOString() } }));
    const simulation = planSimulation(plan({ replay: path }));
    const simulator = new Simulator(okSink, simulation.source, { speed: Number.POSITIVE_INFINITY, staleAfterMs: 30_000 });
    await simulator.start();
    expect(reportOf(simulator, simulation)).toEqual({
      published: 1,
      errors: 0,
      communities: { community1: { genW: 5, conW: 3, meters: 1, stale: 0 } },
      // One reading: nothing is final yet.
      truthEnergy: { community1: { genWh: 0, conWh: 0, importWh: 0, exportWh: 0, finalThrough: null, late: 0 } },
    });
  });
});

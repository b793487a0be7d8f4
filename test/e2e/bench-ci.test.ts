import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BenchReport } from "../../src/bench/bench-report.js";
import { runCli } from "../helpers/cli.js";
import { readJunit } from "../helpers/junit.js";
import { usePipeline } from "../helpers/stack.js";

/**
 * `ecwatch bench` as a CI job runs it (issue 20): a plan file with stages and thresholds, the
 * exit codes 0 / 99 / 2, a JUnit report read back by a real XML parser, and a regression
 * caught against a doctored saved report. Small rates: correctness, not speed, is asserted.
 */
describe("bench in CI", () => {
  const dir = mkdtempSync(join(tmpdir(), "ecwatch-bench-ci-"));
  const plan = join(dir, "plan.yaml");
  writeFileSync(
    plan,
    ["communities: 2", "meters: 20", "clients: 5", "startRate: 100", "stages:", "  - { duration: 3s, rate: 400 }", "  - { duration: 3s, rate: 400 }", "thresholds: [lost==0, totals==1, behind==0]", ""].join("\n"),
  );
  const small = ["--baseline-readings", "2000"];

  it("a bad threshold expression or plan is a usage error (exit 2) naming what is wrong, before anything starts", async () => {
    const badExpression = await runCli(["bench", "--threshold", "e2e.p99<<5ms"]);
    expect(badExpression.code).toBe(2);
    expect(badExpression.stderr).toContain('"e2e.p99<<5ms" is not a threshold');
    expect(badExpression.stderr).toContain("Valid metrics: lost, totals, behind, rate, ratio, e2e.p50");
    const unknown = await runCli(["bench", "--threshold", "p(95)<500"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Valid metrics:");
    const badPlan = join(dir, "bad.yaml");
    writeFileSync(badPlan, "stages:\n  - { duration: 3s, rate: 400 }\n  - { duration: soon, rate: 400 }\n");
    const planRun = await runCli(["bench", "--plan", badPlan]);
    expect(planRun.code).toBe(2);
    expect(planRun.stderr).toContain("stages[1].duration: expected a duration");
    expect((await runCli(["bench", "--max-regression", "5%"])).code).toBe(2);
    const help = await runCli(["bench", "--help"]);
    expect(help.stdout).toMatch(/99 +the run completed, but a threshold/);
  });

  it("a two-stage plan whose thresholds hold exits 0, schedules each stage's readings and writes JUnit; an impossible threshold and a regression against a doctored report exit 99", async () => {
    const report = join(dir, "report.json");
    const junit = join(dir, "bench.xml");
    const summary = join(dir, "summary.md");
    const passing = await runCli(["bench", "--plan", plan, ...small, "--out", report, "--junit", junit, "--summary", summary], { timeoutMs: 120_000 });
    expect(passing.code, passing.stderr).toBe(0);
    const saved = JSON.parse(readFileSync(report, "utf8")) as BenchReport;
    // 100 → 400/s over 3 s, then 400/s for 3 s.
    expect(saved.stages.map((s) => s.scheduled)).toEqual([750, 1_200]);
    expect(saved.stages.reduce((sum, s) => sum + s.published, 0)).toBe(saved.published);
    // The ramp paces the publisher: the first stage publishes fewer readings than the second
    // (at 400/s from the start it would publish 1,200, and the second the 750 left).
    expect(saved.stages[0]!.published).toBeLessThan(saved.stages[1]!.published);
    console.log(`two-stage plan: ${saved.stages.map((s, i) => `stage ${i + 1} scheduled ${s.scheduled}, published ${s.published}, measured ${s.measuredRate}/s`).join("; ")}`);
    expect(passing.stdout).toMatch(/1\. 3 s at 100 → 400\/s: 750 readings scheduled/);
    expect(passing.stdout).toMatch(/✓ behind==0 +0/);
    expect(saved.target).toBe("local");
    expect(saved.config.phase).toBe("spread");
    const passedJunit = readJunit(junit);
    expect(passedJunit.suite).toMatchObject({ tests: "5", failures: "0" });
    expect(passedJunit.cases.map((c) => c.name)).toEqual(["nothing lost", "served totals exact", "lost==0", "totals==1", "behind==0"]);
    expect(passedJunit.out).toContain("readings/s through the pipeline");
    expect(readFileSync(summary, "utf8")).toContain("## ecwatch bench: ✅ all 5 checks passed");

    // A saved run whose end-to-end p99 was a hundredth of this machine's (against the same raw
    // hop): this run is a regression of it. Its p50 and CPU are made 100 times worse, so that only
    // the p99 can be one (small runs' figures swing by tens of per cent from run to run).
    const doctored = join(dir, "doctored.json");
    const latencyMs = { ...saved.latencyMs, p50: saved.latencyMs.p50 * 100, p99: saved.latencyMs.p99 / 100 };
    writeFileSync(doctored, JSON.stringify({ ...saved, latencyMs, processes: saved.processes.map((p) => ({ ...p, cpuMs: p.cpuMs * 100 })) }));
    const failing = await runCli(["bench", "--plan", plan, "--rate", "300", "--duration", "2s", ...small, "--threshold", "e2e.p99<0.001ms", "--compare", doctored, "--max-regression", "20%", "--junit", junit], { timeoutMs: 120_000 });
    expect(failing.code, failing.stderr).toBe(99);
    expect(failing.stdout).toMatch(/✗ e2e\.p99<0\.001ms +[\d.]+ ms \(limit < 0\.001 ms\)/);
    expect(failing.stdout).toMatch(/✗ e2e p99 ÷ raw hop p99 within 20 % of the saved run/);
    const failedJunit = readJunit(junit);
    const failures = failedJunit.cases.filter((c) => c.failure).map((c) => [c.classname, c.name]);
    expect(failures).toEqual([
      ["ecwatch.bench.threshold", "e2e.p99<0.001ms"],
      ["ecwatch.bench.regression", "e2e p99 ÷ raw hop p99 within 20 % of the saved run"],
    ]);
    expect(failedJunit.cases.find((c) => c.name === "e2e.p99<0.001ms")?.failure?.message).toMatch(/measured [\d.]+ ms, limit < 0\.001 ms/);
  }, 240_000);

  describe("against a deployment", () => {
    const pipeline = usePipeline();

    it("with --api and --nats nothing is started here; thresholds and reports work, and the report says it ran against an external stack", async () => {
      const junit = join(dir, "external.xml");
      const run = await runCli(
        ["bench", "--api", pipeline.api.url, "--nats", pipeline.stack.natsUrl, "--communities", "2", "--meters", "10", "--rate", "200", "--duration", "2s", "--clients", "4", ...small, "--threshold", "lost==0", "--threshold", "cpu.aggregator<50%", "--junit", junit, "--json"],
        { timeoutMs: 90_000 },
      );
      // cpu.aggregator is not measured against a deployment: that threshold fails, with exit 99.
      expect(run.code, run.stderr).toBe(99);
      const report = JSON.parse(run.stdout) as BenchReport;
      expect(report.target).toBe("external");
      expect(report.processes.map((p) => p.key)).toEqual(["bench"]);
      expect(report.lost).toBe(0);
      expect(report.totalsExact).toBe(true);
      expect(run.stderr).toContain(`against the external stack at ${pipeline.api.url}`);
      expect(report.checks.filter((c) => c.kind === "threshold").map((c) => [c.name, c.passed, c.measured])).toEqual([
        ["lost==0", true, "0"],
        ["cpu.aggregator<50%", false, "not measured"],
      ]);
      expect(readJunit(junit).out).toContain("an external stack (--api/--nats): nothing started here");
    }, 120_000);
  });
});

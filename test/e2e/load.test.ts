import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { BenchReport } from "../../src/bench/bench-report.js";
import { isAlive } from "../../src/stack/state-file.js";
import { CliProcess, runCli } from "../helpers/cli.js";
import { eventually } from "../helpers/stack.js";

/**
 * The scripted load test users asked for, in CI, as a user writes it (issue 20): a plan file
 * (fixtures/bench/load-test.yaml) run by `ecwatch bench` on its own stack (nats-server,
 * redis-server, `ecwatch aggregate` and `ecwatch serve` as processes), several communities at a
 * few thousand readings/s with SSE clients and faults on. Its thresholds are on correctness —
 * nothing lost, totals exact, every client up to date — and a breach exits 99; no wall-clock
 * latency is asserted, the figures are printed. Speed targets live in `npm run bench`.
 */
const PLAN = fileURLToPath(new URL("../../fixtures/bench/load-test.yaml", import.meta.url));

describe("load test", () => {
  it("the plan: 3,000 readings/s for 10 s over 5 communities with 50 SSE clients and faults; its thresholds on lost, totals and behind hold", async () => {
    const run = await runCli(["bench", "--plan", PLAN, "--baseline-readings", "20000", "--json"], { timeoutMs: 150_000 });
    const report = JSON.parse(run.stdout) as BenchReport;
    const l = report.latencyMs;
    const h = report.hops;
    console.log(
      `load test: ${report.published} readings at ${report.readingsPerSec}/s (baseline ${report.baseline.readingsPerSec}/s, ratio ${report.ratio}), ` +
        `lost ${report.lost}, dead letters ${report.deadLetters}, end-to-end p50 ${l.p50} / p99 ${l.p99} ms ` +
        `(publish → stored ${h.publishToStored.p50}, stored → announced ${h.storedToAnnounced.p50}, announced → client ${h.announcedToClient.p50} ms at p50; ` +
        `raw hop p50 ${report.baseline.latencyMs.p50} / p99 ${report.baseline.latencyMs.p99} ms), SSE ${report.sse.clients} clients, ${report.sse.events} events`,
    );
    console.log(report.checks.map((c) => `  ${c.passed ? "✓" : "✗"} ${c.name}: ${c.measured}`).join("\n"));
    expect(run.code, run.stderr).toBe(0);
    expect(report.checks.filter((c) => c.kind === "threshold").map((c) => [c.name, c.passed])).toEqual([
      ["lost==0", true],
      ["totals==1", true],
      ["behind==0", true],
    ]);
    expect(report.published).toBeGreaterThanOrEqual(25_000);
    expect(report.deadLetters).toBeGreaterThan(0); // the malformed readings, dead-lettered, not crashing anything
    expect(report.sse.clients).toBe(50);
    expect(report.sse.events).toBeGreaterThan(50);
    expect(report.latencyMs.count).toBeGreaterThan(0);
    expect(report.processes.map((p) => p.key)).toEqual(["bench", "nats", "redis", "aggregator", "api"]);
  }, 180_000);

  it("Ctrl-C ends a long run at once and stops what the benchmark started", async () => {
    const bench = new CliProcess(["bench", "--communities", "2", "--meters", "10", "--rate", "2000", "--duration", "10m", "--clients", "5", "--baseline-readings", "5000"]);
    try {
      await eventually(async () => (bench.stderr.includes("bench: 2,000 readings/s") ? true : undefined), 60_000, "the run to start");
      // Its aggregator and API (children) and its servers (each in a process group of its own, children too).
      const started = execFileSync("pgrep", ["-P", String(bench.pid)], { encoding: "utf8" }).trim().split("\n").map(Number);
      expect(started.length).toBeGreaterThanOrEqual(4);
      const stoppedAt = Date.now();
      bench.kill("SIGINT");
      const run = await bench.exited;
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain("bench: interrupted");
      expect(Date.now() - stoppedAt).toBeLessThan(20_000);
      expect(started.filter(isAlive)).toEqual([]);
    } finally {
      bench.kill("SIGKILL");
    }
  }, 90_000);
});

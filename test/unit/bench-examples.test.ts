import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { benchSettings, parsePlanText } from "../../src/bench/plan.js";
import { peakRate, readingsPerStage } from "../../src/bench/load-shape.js";

const example = (name: string): string => readFileSync(new URL(`../../examples/${name}`, import.meta.url), "utf8");

/** The examples a user copies (issue 20): they must work as shipped. */
describe("examples", () => {
  it("examples/bench-plan.yaml is a valid plan: a ramp, a hold and a ramp down, with thresholds", () => {
    const plan = parsePlanText(example("bench-plan.yaml"), "bench-plan.yaml");
    const settings = benchSettings(plan, { communities: 1, meters: 1, clients: 1, phase: "aligned", rate: 1, duration: 1_000, given: new Set() });
    expect(settings).toMatchObject({ communities: 10, meters: 100, clients: 50, phase: "spread" });
    expect(readingsPerStage(settings.shape)).toEqual([27_500, 100_000, 15_000]);
    expect(peakRate(settings.shape)).toBe(5_000);
    expect(settings.thresholds.map((t) => t.metric)).toEqual(["lost", "totals", "behind", "e2e.p99", "rss.aggregator"]);
  });

  it("examples/github-actions.yml is a workflow with Node, the servers through apt, the plan, and the JUnit report uploaded", () => {
    const workflow = parse(example("github-actions.yml")) as {
      name: string;
      on: Record<string, unknown>;
      jobs: Record<string, { "runs-on": string; steps: Array<{ name?: string; uses?: string; run?: string; with?: Record<string, unknown>; if?: string }> }>;
    };
    expect(workflow.name).toBeTruthy();
    expect(Object.keys(workflow.on)).toContain("push");
    const [job] = Object.values(workflow.jobs);
    expect(job?.["runs-on"]).toMatch(/ubuntu/);
    const steps = job!.steps;
    const node = steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
    expect(Number(node?.with?.["node-version"])).toBeGreaterThanOrEqual(20);
    expect(steps.some((s) => /apt-get install .*nats-server.*redis-server/.test(s.run ?? ""))).toBe(true);
    const bench = steps.find((s) => /ecwatch bench/.test(s.run ?? ""));
    expect(bench?.run).toContain("--plan examples/bench-plan.yaml");
    expect(bench?.run).toContain("--junit bench-junit.xml");
    expect(bench?.run).toContain('--summary "$GITHUB_STEP_SUMMARY"');
    const upload = steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
    expect(String(upload?.with?.path)).toContain("bench-junit.xml");
    // Uploaded also when the bench failed (exit 99): that is when the report matters most.
    expect(upload?.if).toBe("always()");
  });
});

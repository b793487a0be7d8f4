import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Aggregate } from "../../src/domain/aggregate.js";
import { isAlive } from "../../src/stack/state-file.js";
import { CliProcess, runCli } from "../helpers/cli.js";
import { eventually } from "../helpers/stack.js";

/** `ecwatch up --cluster 3`, as users run it: three nats-servers, one stack on top (issue 9). */

let cwd: string;
let up: CliProcess;
let ready: { api: string; nats: string };
let servers: Array<{ kind: string; pid: number }> = [];

beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), "ecwatch-cluster-e2e-"));
  up = new CliProcess(["up", "--cluster", "3", "--communities", "2", "--meters", "3", "--port", "0", "--json"], { cwd });
  ready = JSON.parse((await up.waitForStdout(/^\{"ready":true.*\}$/m, 50_000))[0]) as typeof ready;
}, 60_000);

afterAll(async () => {
  up?.kill("SIGINT");
  expect((await up?.exited)?.code).toBe(0);
  for (const server of servers) expect(isAlive(server.pid), `${server.kind} pid ${server.pid}`).toBe(false);
  rmSync(cwd, { recursive: true, force: true });
});

describe("ecwatch up --cluster 3", () => {
  it("names the three nodes' URLs, in the ready object and in the state file", async () => {
    const urls = ready.nats.split(",");
    expect(urls).toHaveLength(3);
    for (const url of urls) expect(url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    const state = JSON.parse(readFileSync(join(cwd, ".ecwatch", "state.json"), "utf8")) as { nats: string; servers: Array<{ kind: string; pid: number }> };
    expect(state.nats).toBe(ready.nats);
    expect(state.servers.filter((server) => server.kind === "nats")).toHaveLength(3);
    servers = state.servers;
    for (const server of servers) expect(isAlive(server.pid)).toBe(true);
  });

  it("readings flow: the simulated communities are served", async () => {
    // Meters report out of step (each at its own phase): the first aggregate may hold one of them, later ones all three.
    const aggregate = await eventually(
      async () => {
        const res = await fetch(`${ready.api}/communities/community1`);
        const served = res.ok ? ((await res.json()) as Aggregate) : undefined;
        return served && served.meters === 3 ? served : undefined;
      },
      20_000,
      "community1 to be served with its 3 meters",
    );
    expect(aggregate).toMatchObject({ meters: 3, stale: 0 });
  });

  it("doctor finds the cluster through the state file", async () => {
    const doctor = await runCli(["doctor", "--json"], { cwd });
    const report = JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string; detail: string }> };
    expect(report.checks.find((check) => check.name === "NATS")).toMatchObject({ status: "ok", detail: expect.stringContaining(ready.nats) });
    expect(report.checks.find((check) => check.name === "stream EC_STREAM")?.status).toBe("ok");
  });
});

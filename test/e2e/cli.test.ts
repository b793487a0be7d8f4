import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Aggregate } from "../../src/domain/aggregate.js";
import { isAlive } from "../../src/stack/state-file.js";
import { BIN, CliProcess, runCli } from "../helpers/cli.js";
import { eventually } from "../helpers/stack.js";
import { TmuxSession } from "../helpers/tmux.js";

const COMMANDS = ["up", "sim", "bench", "aggregate", "archive", "serve", "tail", "history", "query", "export", "meters", "monitor", "wear-emu", "reset", "doctor"];

// Help and usage errors of every command are tested in-process (test/unit/cli-program.test.ts);
// these few run the real binary, to show that the process gives the same.
describe("ecwatch --help, as a process", () => {
  it("lists exactly the commands that work", async () => {
    const run = await runCli(["--help"]);
    expect(run.code).toBe(0);
    const listed = [...run.stdout.matchAll(/^ {2}([a-z-]+)(?: \[options\]| <)/gm)].map((m) => m[1]);
    expect(listed.filter((name) => name !== "help")).toEqual(COMMANDS);
  });

  it("`sim --help` shows its example and its defaults as a user writes them", async () => {
    const run = await runCli(["sim", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Examples:\n {2}\$ ecwatch sim /);
    expect(run.stdout).toMatch(/--interval <duration>[^]*?\(default:\s+1s\)/);
  });

  it("`--help` loads only what it shows: no command, adapter or simulator model (issue 19)", async () => {
    const log = join(tmpdir(), `ecwatch-help-modules-${process.pid}.txt`);
    // A module hook that notes every module the process loads.
    const hooks = `data:text/javascript,${encodeURIComponent('import{appendFileSync}from"node:fs";export async function load(url,context,next){appendFileSync(process.env.ECWATCH_MODULE_LOG,url+"\\n");return next(url,context)}')}`;
    const register = `data:text/javascript,${encodeURIComponent(`import{register}from"node:module";register(${JSON.stringify(hooks)})`)}`;
    try {
      for (const args of [["--help"], ["sim", "--help"], ["wear-emu", "--help"]]) {
        rmSync(log, { force: true });
        const run = await runCli(args, { env: { NODE_OPTIONS: `--import=${register}`, ECWATCH_MODULE_LOG: log } });
        expect(run.code).toBe(0);
        const loaded = readFileSync(log, "utf8").split("\n");
        expect(loaded.filter((url) => url.includes("/dist/")).length, "ecwatch's modules").toBeGreaterThan(5);
        const heavy = loaded.filter((url) => /\/dist\/(commands|app|nats|redis|api-client|stack|sim\/setup|sim\/model|aggregator|api\/(?!cors|rate-limit))/.test(url) || /node_modules\/(?!commander\/)/.test(url));
        expect(heavy, `ecwatch ${args.join(" ")}`).toEqual([]);
      }
    } finally {
      rmSync(log, { force: true });
    }
  });

  it("prints its version", async () => {
    const run = await runCli(["--version"]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe("bad usage exits 2 with one sentence naming the flag, as a process", () => {
  it.each([
    // commander's refusal of a value
    [["sim", "--communities", "abc"], "--communities"],
    // ecwatch's own, from inside the command
    [["sim", "--scenario", "nosuchscenario"], "--scenario nosuchscenario"],
  ])("ecwatch %j", async (args, named) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stderr.split("\n")[0]).toContain(named);
    expect(run.stderr.trim().split("\n").length).toBeLessThanOrEqual(2);
  });

  it("says how to reach NATS when nothing answers (exit 1)", async () => {
    const run = await runCli(["sim", "--nats", "nats://127.0.0.1:1", "--duration", "1s"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Cannot connect to NATS at nats:\/\/127\.0\.0\.1:1 \(.+\)\.\n {2}.*ecwatch up/);
  });
});

describe("ecwatch wear-emu --compare", () => {
  it("prints both policies over the recorded day as JSON", async () => {
    const run = await runCli(["wear-emu", "--compare", "--json"], { timeoutMs: 60_000 });
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as Record<string, { wakeupsPerHour: number; bytesPerHour: number; mAhPerDay: number; staleness: Record<string, number> }>;
    for (const policy of ["prototype", "energyAware"]) {
      expect(Object.keys(result[policy]!)).toEqual(expect.arrayContaining(["wakeupsPerHour", "bytesPerHour", "mAhPerDay", "staleness"]));
      expect(Object.keys(result[policy]!.staleness)).toEqual(expect.arrayContaining(["p50W", "p99W", "maxStaleSeconds"]));
    }
    expect(result.prototype!.wakeupsPerHour / result.energyAware!.wakeupsPerHour).toBeGreaterThanOrEqual(20);
  });
});

describe("ecwatch up", () => {
  const dirs: string[] = [];
  const workdir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), "ecwatch-e2e-"));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it("runs the stack; sim, tail and GET agree; Ctrl-C stops everything it started", async () => {
    const cwd = workdir();
    const up = new CliProcess(["up", "--communities", "0", "--port", "0", "--json"], { cwd });
    try {
      const [line] = await up.waitForStdout(/^\{"ready":true.*\}$/m);
      const ready = JSON.parse(line) as { api: string; nats: string; redis: string };
      const state = JSON.parse(readFileSync(join(cwd, ".ecwatch", "state.json"), "utf8")) as { pid: number; servers: Array<{ pid: number }> };
      expect(state.pid).toBe(up.pid);
      expect(state.servers).toHaveLength(2);

      // sim finds the stack through .ecwatch/state.json: no flags.
      const sim = await runCli(["sim", "--communities", "2", "--meters", "4", "--interval", "200ms", "--duration", "1s", "--json"], { cwd });
      expect(sim.code).toBe(0);
      const truth = JSON.parse(sim.stdout) as { published: number; communities: Record<string, { genW: number; conW: number }> };
      expect(truth.published).toBeGreaterThanOrEqual(2 * 4 * 4);
      for (const [id, expected] of Object.entries(truth.communities)) {
        await eventually(async () => {
          const aggregate = (await (await fetch(`${ready.api}/communities/${id}`)).json()) as Aggregate;
          return aggregate.genW === expected.genW && aggregate.conW === expected.conW ? true : undefined;
        }, 10_000, `${id} to match the simulator`);
      }

      const tail = await runCli(["tail", "community1", "--json", "--count", "1"], { cwd, timeoutMs: 10_000 });
      expect(tail.code).toBe(0);
      expect(JSON.parse(tail.stdout)).toMatchObject({ communityId: "community1", genW: truth.communities.community1!.genW });

      const doctor = await runCli(["doctor", "--json"], { cwd });
      expect(doctor.code).toBe(0);
      const report = JSON.parse(doctor.stdout) as { ok: boolean; checks: Array<{ name: string; status: string }> };
      expect(report.ok).toBe(true);
      for (const name of ["NATS", "Redis", "API", "stream EC_STREAM", "aggregator consumers", "KV ec_latest"]) {
        expect(report.checks.find((check) => check.name === name)?.status).toBe("ok");
      }

      up.kill("SIGINT");
      const run = await up.exited;
      expect(run.code).toBe(0);
      for (const server of state.servers) expect(isAlive(server.pid)).toBe(false);
      expect(existsSync(join(cwd, ".ecwatch", "state.json"))).toBe(false);
    } finally {
      up.kill("SIGKILL");
    }

    // The data outlives the stack, until --fresh wipes it.
    const fresh = new CliProcess(["up", "--communities", "0", "--port", "0", "--json", "--fresh"], { cwd });
    try {
      const ready = JSON.parse((await fresh.waitForStdout(/^\{"ready":true.*\}$/m))[0]) as { api: string };
      expect(await (await fetch(`${ready.api}/communities`)).json()).toEqual([]);
    } finally {
      fresh.kill("SIGINT");
      expect((await fresh.exited).code).toBe(0);
    }
  });

  it("Ctrl-C during start-up stops what has started so far", async () => {
    const cwd = workdir();
    const up = new CliProcess(["up", "--communities", "1", "--port", "0"], { cwd });
    const stateFile = join(cwd, ".ecwatch", "state.json");
    const state = await eventually(async () => (existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, "utf8")) as { servers: Array<{ pid: number }> }) : undefined), 15_000, "the state file");
    up.kill("SIGINT");
    const run = await up.exited;
    expect(run.code).toBe(0);
    expect(state.servers.length).toBeGreaterThan(0);
    expect(state.servers.some((s) => isAlive(s.pid))).toBe(false);
    expect(existsSync(stateFile)).toBe(false);
  });

  it("shows a live status in a terminal, and Ctrl-C there stops everything", async () => {
    const cwd = workdir();
    const terminal = TmuxSession.start(`exec env NO_COLOR=1 ${process.execPath} ${BIN} up --communities 2 --meters 3 --port 0`, { cwd });
    try {
      await terminal.waitForScreen(/ready api=http:\/\/127\.0\.0\.1:\d+/);
      const screen = await terminal.waitForScreen(/community2 +net +[-+]\d+\.\d\d kW +gen +\d+\.\d\d kW +con +\d+\.\d\d kW +meters 3/);
      expect(screen).toMatch(/community1 +net/);
      expect(screen).toMatch(/\d+ readings\/s/);
      const { servers } = JSON.parse(readFileSync(join(cwd, ".ecwatch", "state.json"), "utf8")) as { servers: Array<{ pid: number }> };
      terminal.sendKeys("C-c");
      // The exit code itself is checked without a terminal above; tmux cannot always tell it.
      expect(["exit 0", "ended"], terminal.screen()).toContain(await terminal.ended(20_000));
      expect(existsSync(join(cwd, ".ecwatch", "state.json"))).toBe(false);
      expect(terminal.screen()).toContain("stopping…");
      expect(servers.some((s) => isAlive(s.pid))).toBe(false);
    } finally {
      terminal.kill();
    }
  });

  it("after a killed up, the next up stops the servers it left behind", async () => {
    const cwd = workdir();
    const first = new CliProcess(["up", "--communities", "1", "--meters", "2", "--port", "0", "--json"], { cwd });
    await first.waitForStdout(/"ready":true/);
    const { servers } = JSON.parse(readFileSync(join(cwd, ".ecwatch", "state.json"), "utf8")) as { servers: Array<{ pid: number }> };
    first.kill("SIGKILL");
    await first.exited;
    expect(servers.every((s) => isAlive(s.pid))).toBe(true);

    const second = new CliProcess(["up", "--communities", "0", "--port", "0", "--json"], { cwd });
    try {
      await second.waitForStdout(/"ready":true/);
      expect(second.stderr).toContain("stopped servers left by an earlier ecwatch up");
      expect(servers.some((s) => isAlive(s.pid))).toBe(false);
      const again = await runCli(["up", "--port", "0"], { cwd });
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("already running");
    } finally {
      second.kill("SIGINT");
      expect((await second.exited).code).toBe(0);
    }
  });
});

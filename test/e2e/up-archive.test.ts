import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Bus, openBus } from "../../src/nats/bus.js";
import { isNotFound } from "../../src/nats/not-found.js";
import { PARTITIONS, archiveConsumer, partitionStream } from "../../src/wire/names.js";
import { CliProcess, runCli } from "../helpers/cli.js";
import { eventually } from "../helpers/stack.js";

/** `ecwatch up` archives every reading by default (issue 22), and `ecwatch query` finds that archive through the state file. */

const dirs: string[] = [];
const workdir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "ecwatch-up-archive-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

interface Ready {
  readonly api: string;
  readonly nats: string;
  readonly archive?: string;
}

/** `ecwatch up` with one simulated community of 3 meters reporting every second, in `cwd`. */
async function up(cwd: string, ...args: string[]): Promise<{ up: CliProcess; ready: Ready }> {
  const process = new CliProcess(["up", "--communities", "1", "--meters", "3", "--port", "0", "--json", ...args], { cwd });
  const ready = JSON.parse((await process.waitForStdout(/^\{"ready":true.*\}$/m, 60_000))[0]) as Ready;
  return { up: process, ready };
}

const count = async (cwd: string, ...args: string[]): Promise<number> => {
  const run = await runCli(["query", ...args, "--json", "SELECT count(*)::INTEGER AS n FROM readings"], { cwd });
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return (JSON.parse(run.stdout) as Array<{ n: number }>)[0]!.n;
};

describe("ecwatch up's archiver", () => {
  it("archives the readings into --archive-dir, says so, and query without --dir reads it through the state file", { timeout: 120_000 }, async () => {
    const cwd = workdir();
    const archiveDir = join(cwd, "elsewhere");
    const { up: running, ready } = await up(cwd, "--archive-dir", archiveDir);
    try {
      expect(ready.archive).toBe(archiveDir);
      expect(JSON.parse(readFileSync(join(cwd, ".ecwatch", "state.json"), "utf8"))).toMatchObject({ archive: archiveDir });
      // The archiver writes at least every 10 s. (A query starts a process with DuckDB: slower than eventually's probe limit under load.)
      const deadline = Date.now() + 60_000;
      let n = 0;
      while (n === 0 && Date.now() < deadline) n = await count(cwd);
      expect(n).toBeGreaterThan(0);
      expect(readdirSync(archiveDir)).toEqual(["community_id=community1"]);
    } finally {
      running.kill("SIGINT");
      expect((await running.exited).code).toBe(0);
    }
    // Stopping wrote what waited; without a running up, query reads .ecwatch/archive, which up did not write.
    expect(await count(cwd, "--dir", archiveDir)).toBeGreaterThan(0);
    expect(await count(cwd)).toBe(0);
  });

  it("--no-archive runs no archiver: no archive consumers, no files, nothing in the state file", { timeout: 120_000 }, async () => {
    const cwd = workdir();
    const { up: running, ready } = await up(cwd, "--no-archive");
    let bus: Bus | undefined;
    try {
      expect(ready.archive).toBeUndefined();
      expect(JSON.parse(readFileSync(join(cwd, ".ecwatch", "state.json"), "utf8")).archive).toBeUndefined();
      // Readings flow (the community is served) …
      await eventually(async () => ((await fetch(`${ready.api}/communities/community1`)).ok ? true : undefined), 30_000, "community1 to be served");
      // … and no archiver consumes them: up would have created its consumers before the ready line.
      bus = await openBus(ready.nats, "test-up-archive");
      for (let p = 0; p < PARTITIONS; p += 1) {
        const info = await bus.jsm.consumers.info(partitionStream(p), archiveConsumer(p)).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
        expect(info, archiveConsumer(p)).toBeUndefined();
      }
    } finally {
      await bus?.close();
      running.kill("SIGINT");
      expect((await running.exited).code).toBe(0);
    }
    expect(existsSync(join(cwd, ".ecwatch", "archive"))).toBe(false);
  });
});

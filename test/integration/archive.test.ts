/**
 * The archive on real servers (issue 22): a simulated mixed-cadence community with duplicates
 * and reordered readings ends with exactly one row per valid reading the partition stream holds;
 * so it does with the archiver killed (kill -9) again and again mid-run; `ecwatch query` reads
 * while the archiver writes and refuses writes.
 */
import { mkdtempSync, readdirSync, rmSync, watch, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startArchiving } from "../../src/app/archive.js";
import { type Bus, openBus } from "../../src/nats/bus.js";
import type { Simulator } from "../../src/sim/simulator.js";
import { partitionOf } from "../../src/wire/names.js";
import { HOUR, archived, archivedRows, simulate, validReadingsOfStreams } from "../helpers/archive-run.js";
import { CliProcess, runCli } from "../helpers/cli.js";
import { startTestStack, type TestStack } from "../helpers/stack.js";

const START = Date.UTC(2026, 5, 21, 22);
const COMMUNITY = "community1";

/** 15-minute gateways, 1-minute meters and 2–10 s devices; the run crosses midnight (two days' folders). */
const SCENARIO = {
  name: "archive-mixed",
  location: { latitude: 47.99, longitude: 7.85 },
  groups: [
    { count: 4, kind: "household", annualKwh: [2000, 5000], intervalMs: 900_000, averaged: true },
    { count: 4, kind: "household", annualKwh: [2500, 5000], pvKwp: [5, 10], intervalMs: 60_000 },
    { count: 2, kind: "household", annualKwh: 0, pvKwp: [4, 9], intervalMs: 2_000 },
    { count: 2, kind: "household", annualKwh: 0, heatPump: { electricKw: [1.5, 3], heatLossWPerK: [120, 220] }, intervalMs: 10_000 },
  ],
};

let stack: TestStack;
let bus: Bus;
let dir: string;
let archiveDir: string;
let scenarioFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ecwatch-archive-"));
  scenarioFile = join(dir, "archive-mixed.json");
  writeFileSync(scenarioFile, JSON.stringify(SCENARIO));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  stack = await startTestStack();
  bus = await openBus(stack.natsUrl, "test-archive");
  archiveDir = mkdtempSync(join(dir, "archive-"));
});

afterEach(async () => {
  await bus?.close();
  await stack?.stop();
});

/** `hours` of the community from 22:00 UTC, 2 % duplicates and 2 % reordered, published at `speed`. */
const simulateCommunity = (hours: number, speed: number): Promise<Simulator> => simulate(stack.natsUrl, { scenario: scenarioFile, communities: 1, hours, speed, startMs: START });

/** Every valid reading the community's partition stream holds, as `community/meter/seq`. */
const validReadingsOfStream = (): Promise<string[]> => validReadingsOfStreams(bus, [partitionOf(COMMUNITY)]);

describe("the archive", () => {
  it("holds exactly one row per valid reading of a mixed-cadence community with duplicates and reordering, in Hive folders per UTC day", { timeout: 120_000 }, async () => {
    const service = await startArchiving(stack.natsUrl, archiveDir, { flushMs: 300, onError: (err) => console.error("a flush failed", err) });
    let readWhileWriting = 0;
    try {
      // 20 s of publishing: a query process takes seconds to start on a loaded machine, and several must read meanwhile.
      const running = simulateCommunity(4, (4 * HOUR) / 20_000);
      let done = false;
      void running.finally(() => (done = true));
      // `ecwatch query` reads while the archiver renames segments into place.
      while (!done) {
        const run = await runCli(["query", "--dir", archiveDir, "--json", "SELECT count(*) AS n FROM readings"]);
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        const [row] = JSON.parse(run.stdout) as Array<{ n: number }>;
        if (row!.n > 0) readWhileWriting += 1;
      }
      await running;
      await archived(bus, 30_000);
      expect(readWhileWriting).toBeGreaterThan(0);
    } finally {
      await service.stop();
    }
    const expected = await validReadingsOfStream();
    const rows = await archivedRows(archiveDir, COMMUNITY);
    expect(rows.length).toBe(expected.length);
    expect(rows).toEqual(expected);
    expect(readdirSync(join(archiveDir, `community_id=${COMMUNITY}`)).sort()).toEqual(["date=2026-06-21", "date=2026-06-22"]);
    const bytes = service.archiver.stats.bytes;
    console.log(`${rows.length} readings archived exactly once in ${service.archiver.stats.segments} segments, ${(bytes / rows.length).toFixed(1)} bytes a reading; ${readWhileWriting} queries read while it wrote`);
  });

  it("loses and duplicates nothing with the archiver killed (kill -9) as it renames segments into place, again and again", { timeout: 240_000 }, async () => {
    const start = async (): Promise<CliProcess> => {
      const archiver = new CliProcess(["archive", "--nats", stack.natsUrl, "--dir", archiveDir, "--flush-every", "300ms"]);
      await archiver.waitForStderr(/archiving /);
      return archiver;
    };
    /** Kills it (kill -9) the moment a segment is renamed into place: between the rename and the acks, where a restart must not write its readings again. */
    const killAtNextSegment = (cli: CliProcess): Promise<void> =>
      new Promise((resolve) => {
        const watcher = watch(archiveDir, { recursive: true }, (_event, name) => {
          if (!String(name).endsWith(".parquet")) return;
          cli.kill("SIGKILL");
          watcher.close();
          resolve();
        });
      });
    let archiver = await start();
    let kills = 0;
    try {
      // 30 s of publishing: each restart of the CLI takes seconds on a loaded machine, and it must be killed at least 3 times meanwhile.
      const running = simulateCommunity(4, (4 * HOUR) / 30_000);
      let done = false;
      void running.finally(() => (done = true));
      while (!done) {
        await killAtNextSegment(archiver);
        await archiver.exited;
        kills += 1;
        archiver = await start();
      }
      await running;
      // What a killed archiver had not acknowledged comes again after the consumer's ack wait (30 s).
      await archived(bus, 120_000);
    } finally {
      // Stopped, not killed: a compaction (each restart compacts the finished days) that a kill cut short leaves rows twice until the next one.
      archiver.kill("SIGTERM");
      await archiver.exited;
    }
    // A kill can cut short a flush's write and a compaction's.
    expect(readdirSync(archiveDir, { recursive: true }).filter((entry) => String(entry).endsWith(".tmp")).length).toBeLessThanOrEqual(2 * kills);
    const expected = await validReadingsOfStream();
    expect(await archivedRows(archiveDir, COMMUNITY)).toEqual(expected);
    expect(kills).toBeGreaterThanOrEqual(3);
    console.log(`${expected.length} readings archived exactly once; the archiver killed ${kills}× (kill -9) as a segment was renamed into place`);
  });

  it("query refuses writes and bad SQL with one sentence and exit code 2", { timeout: 60_000 }, async () => {
    // --csv has DuckDB write the rows itself (a COPY of the SELECT): it refuses the same.
    for (const [sql, csv] of ["COPY (SELECT 1) TO 'x.parquet'", "CREATE TABLE t (a INT)", "DROP VIEW readings", "SELECT * FROM nowhere", "SELECT 1) TO 'x.csv' (FORMAT csv); SELECT (1"].flatMap((q) => [[q, false], [q, true]] as const)) {
      const run = await runCli(["query", "--dir", archiveDir, ...(csv ? ["--csv"] : []), sql]);
      expect(run.code, sql).toBe(2);
      expect(run.stderr.trim().split("\n")[0], sql).toMatch(/^(ecwatch: )?(The archive is read-only: only a SELECT runs|The query failed: )/);
    }
    expect(readdirSync(archiveDir)).toEqual([]);
  });
});

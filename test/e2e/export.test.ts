import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliProcess, runCli } from "../helpers/cli.js";
import { writeArchive } from "../helpers/archive-files.js";

/** `ecwatch export` through the built CLI (the files themselves are checked in test/integration/archive-export.test.ts). */
const HOUR = 3_600_000;
let root: string;
let archive: string;
const NOW = Date.now();

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "ecwatch-export-cli-"));
  archive = join(root, "archive");
  // One reading per meter every hour from 48 h ago, at half past the hour of now: none lies within minutes of "24 h ago".
  const start = Math.floor((NOW - 48 * HOUR) / HOUR) * HOUR + HOUR / 2;
  await writeArchive(archive, { communities: ["c1", "c2"], meters: 2, fromMs: start, toMs: NOW, stepMs: HOUR, flushMs: 6 * HOUR });
}, 60_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("ecwatch export", () => {
  it("--from -24h exports the last 24 hours; --json prints the summary", { timeout: 60_000 }, async () => {
    const out = join(root, "last-day");
    const run = await runCli(["export", "--dir", archive, "--from", "-24h", "--out", out, "--json"]);
    expect(run.stderr).toMatch(/^exported \d+ files \(\d+ copied whole, \d+ filtered\), 96 rows, \d+ bytes of \[/m);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as { files: number; rows: number; bytes: number; copied: number; filtered: number };
    expect(Object.keys(summary)).toEqual(["files", "rows", "bytes", "copied", "filtered"]);
    // 24 readings of each of 2 meters of 2 communities.
    expect(summary.rows).toBe(96);
    expect(summary.files).toBe(summary.copied + summary.filtered);
    const counted = await runCli(["query", "--dir", out, "--json", "SELECT count(*)::INTEGER AS n, min(measured_at) >= now() - INTERVAL 24 HOUR AS recent FROM readings"]);
    expect(JSON.parse(counted.stdout)).toEqual([{ n: 96, recent: true }]);
  });

  it("Ctrl-C stops it between files: every file written is whole, none half-written, and it says the export is incomplete", { timeout: 120_000 }, async () => {
    // 10 communities × 4 days, a segment per 4 hours: 240 files, of which Ctrl-C comes after the first.
    const big = join(root, "big");
    await writeArchive(big, { communities: Array.from({ length: 10 }, (_, i) => `c${i}`), meters: 1, fromMs: Date.UTC(2026, 5, 20), toMs: Date.UTC(2026, 5, 24), stepMs: 3_600_000, flushMs: 4 * HOUR });
    const out = join(root, "interrupted");
    const cli = new CliProcess(["export", "--dir", big, "--from", "2026-06-20T01:00:00Z", "--to", "2026-06-24", "--out", out]);
    await cli.waitForStderr(/exporting: 1\//);
    cli.kill("SIGINT");
    const run = await cli.exited;
    expect(run.code).toBe(1);
    const said = /export interrupted: (\d+) files .*, (\d+) rows, .* the export of .* is incomplete/.exec(run.stderr);
    expect(said, run.stderr).not.toBeNull();
    const files = readdirSync(out, { recursive: true }).map(String).filter((entry) => entry.includes(".parquet"));
    expect(files.filter((file) => !file.endsWith(".export.parquet"))).toEqual([]);
    expect(files.length).toBe(Number(said![1]));
    expect(files.length).toBeLessThan(240);
    // Every file there is whole: DuckDB reads them all, and they hold the rows the command counted.
    const counted = await runCli(["query", "--dir", out, "--json", "SELECT count(*)::INTEGER AS n FROM readings"]);
    expect(counted.stderr).toBe("");
    expect(JSON.parse(counted.stdout)).toEqual([{ n: Number(said![2]) }]);
  });

  it.each([
    [["--from", "yesterday"], "--from"],
    [["--from", "-1h", "--to", "2026-13-01"], "--to"],
    [["--from", "-1h", "--to", "-2h"], "--to"],
    [["--from", "2026-06-21", "--to", "2026-06-21"], "--to"],
    [["--from", "-1h", "--community", "c9"], "--community c9"],
    [["--from", "-1h", "--community", "bad.id"], "--community"],
    [["--to", "now"], "--from"],
  ])("%j is a usage error: exit 2 and one sentence naming %s", { timeout: 30_000 }, async (args, flag) => {
    const out = join(root, `refused-${flag.replace(/\W/g, "")}-${args.length}`);
    const run = await runCli(["export", "--dir", archive, ...args, "--out", out]);
    expect(run.code).toBe(2);
    expect(run.stderr.split("\n")[0]).toContain(flag);
    expect(() => readdirSync(out)).toThrow();
  });

  it("refuses an --out inside the archive and an --out that is not empty, writing nothing", { timeout: 30_000 }, async () => {
    const inside = await runCli(["export", "--dir", archive, "--from", "-1h", "--out", join(archive, "export")]);
    expect(inside.code).toBe(2);
    expect(inside.stderr).toMatch(/^ecwatch: --out .* lies inside the archive \(--dir .*\); choose a folder outside it/);
    expect(readdirSync(archive).sort()).toEqual(["community_id=c1", "community_id=c2"]);

    const used = join(root, "used");
    mkdirSync(used);
    writeFileSync(join(used, "notes.txt"), "mine");
    const nonEmpty = await runCli(["export", "--dir", archive, "--from", "-1h", "--out", used]);
    expect(nonEmpty.code).toBe(2);
    expect(nonEmpty.stderr).toMatch(/^ecwatch: --out .* is not empty; give a new or empty folder/);
    expect(readdirSync(used)).toEqual(["notes.txt"]);
  });
});

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

/** `ecwatch query` through the built CLI, on an in-memory DuckDB (no server): the archive's files are tested in test/integration/archive.test.ts. */
const dir = mkdtempSync(join(tmpdir(), "ecwatch-query-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("ecwatch query", () => {
  it("--schema names each table with a line on what it holds", async () => {
    const run = await runCli(["query", "--schema"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^readings {2}every valid reading once: community_id, meter_id, measured_at TIMESTAMPTZ/);
    expect(run.stdout).toMatch(/^meter_energy_15m {2}each meter's energy per UTC quarter hour, by the aggregator's rule of validity/m);
    expect(run.stdout).toMatch(/^community_energy_15m {2}each community's energy per UTC quarter hour/m);
  });

  it("an archive with no segment yet has empty energy views", async () => {
    const run = await runCli(["query", "--dir", join(dir, "none"), "--csv", "SELECT (SELECT count(*) FROM meter_energy_15m) AS meters, (SELECT count(*) FROM community_energy_15m) AS communities"]);
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("meters,communities\n0,0\n");
  });

  it("an archive with no segment yet is an empty readings table, not an error", async () => {
    const run = await runCli(["query", "--dir", join(dir, "none"), "SELECT count(*) AS n, max(gen_w) AS most FROM readings"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("n  most\n─  ────\n0\n(1 row)\n");
  });

  it("prints --csv and --json", async () => {
    const sql = "SELECT 'a,b' AS label, 2 AS n";
    expect((await runCli(["query", "--dir", dir, "--csv", sql])).stdout).toBe('label,n\n"a,b",2\n');
    expect(JSON.parse((await runCli(["query", "--dir", dir, "--json", sql])).stdout)).toEqual([{ label: "a,b", n: 2 }]);
  });

  it("two statements are refused with exit code 2", async () => {
    const run = await runCli(["query", "--dir", dir, "SELECT 1; SELECT 2"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Give one SQL statement, not 2.");
  });
});

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { dayFolder, utcDate } from "../../src/wire/archive-layout.js";
import { CliProcess, runCli } from "../helpers/cli.js";
import { startTestStack } from "../helpers/stack.js";

/** `ecwatch archive --retention-age` through the built CLI: compaction itself is tested in test/integration/archive-compaction.test.ts. */
const dir = mkdtempSync(join(tmpdir(), "ecwatch-archive-e2e-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("ecwatch archive --retention-age", () => {
  it.each([["7 days"], ["0"], ["-1h"], ["forever"]])("refuses %j with exit code 2 and one sentence naming the flag", async (value) => {
    const run = await runCli(["archive", "--dir", join(dir, "refused"), "--nats", "nats://127.0.0.1:1", "--retention-age", value]);
    expect(run.code).toBe(2);
    expect(run.stderr.split("\n")[0]).toMatch(/--retention-age .*expected a duration like/);
    expect(run.stderr.trim().split("\n").length).toBeLessThanOrEqual(2);
    expect(existsSync(join(dir, "refused"))).toBe(false);
  });

  it("removes the days that ended more than that long ago on start, logs each, and keeps the others", { timeout: 60_000 }, async () => {
    const stack = await startTestStack();
    const archive = join(dir, "kept");
    const old = join(archive, dayFolder("community1", "2026-01-01"));
    const today = join(archive, dayFolder("community1", utcDate(Date.now())));
    for (const folder of [old, today]) {
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, "notes.txt"), "not a segment\n");
    }
    const archiver = new CliProcess(["archive", "--nats", stack.natsUrl, "--dir", archive, "--retention-age", "30d"]);
    try {
      await archiver.waitForStderr(/removed community1 2026-01-01: it ended more than 30d ago/);
      expect(existsSync(old)).toBe(false);
      expect(existsSync(today)).toBe(true);
    } finally {
      archiver.kill("SIGTERM");
      await archiver.exited;
      await stack.stop();
    }
  });
});

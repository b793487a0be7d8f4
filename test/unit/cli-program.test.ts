import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli.js";
import { parseDuration } from "../../src/domain/duration.js";
import { runInProcess } from "../helpers/program.js";

/** Help and usage errors through the real program, in-process (the spawned checks are in test/e2e/cli.test.ts). */

const COMMANDS = ["up", "sim", "bench", "aggregate", "archive", "serve", "tail", "history", "query", "export", "meters", "monitor", "wear-emu", "reset", "doctor"];

describe("ecwatch --help", () => {
  it("lists exactly the commands that work", async () => {
    const run = await runInProcess(["--help"]);
    expect(run.code).toBe(0);
    const listed = [...run.stdout.matchAll(/^ {2}([a-z-]+)(?: \[options\]| <)/gm)].map((m) => m[1]);
    expect(listed.filter((name) => name !== "help")).toEqual(COMMANDS);
  });

  it.each(COMMANDS)("`%s --help` explains the command with an example", async (command) => {
    const run = await runInProcess([command, "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: ecwatch ${command}`);
    expect(run.stdout).toMatch(/Examples:\n {2}\$ ecwatch /);
  });

  it("prints its version", async () => {
    const run = await runInProcess(["--version"]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe("every duration flag's default, in --help", () => {
  // A duration flag is known by what its parser does (1s → 1000 ms), not by its name, so one added later is covered.
  const program = buildProgram();
  const durationFlags = program.commands.flatMap((command) =>
    command.options
      .filter((option) => {
        try {
          return option.parseArg?.("1s", undefined) === 1_000;
        } catch {
          return false;
        }
      })
      .map((option) => ({ command, option, name: `${command.name()} ${option.long}` })),
  );

  it("covers the duration flags of every command that has them", () => {
    const names = durationFlags.map((flag) => flag.name);
    for (const name of ["sim --interval", "up --interval", "wear-emu --idle-interval", "wear-emu --batch-delay", "wear-emu --radio-tail", "bench --duration", "aggregate --retention-age"]) {
      expect(names).toContain(name);
    }
  });

  it.each(durationFlags.map((flag) => [flag.name, flag] as const))("%s shows its default as a user writes it, not in milliseconds", async (_name, { command, option }) => {
    const run = await runInProcess([command.name(), "--help"]);
    // The help as printed, its wrapped lines joined: the option's own entry, up to the next option.
    const text = run.stdout.replace(/\n {20,}/g, " ");
    const entry = text.slice(text.indexOf(`  ${option.flags}`)).split("\n")[0]!;
    expect(entry).not.toMatch(/\(default: \d+\)/);
    if (option.defaultValue === undefined) return;
    const shown = /\(default: ([^)]+)\)/.exec(entry)?.[1];
    expect(shown, entry).toBeDefined();
    expect(parseDuration(shown!)).toBe(option.defaultValue);
  });
});

describe("bad usage exits 2 with one sentence naming the flag", () => {
  it.each([
    [["sim", "--communities", "abc"], "--communities"],
    [["sim", "--interval", "fast"], "--interval"],
    [["sim", "--level", "house"], "--level"],
    [["tail", "bad.id"], "community"],
    [["history", "community1", "--step", "2m"], "--step"],
    [["history", "community1", "--from", "yesterday"], "--from"],
    [["history", "community1", "--tz", "Berlin"], "--tz"],
    [["history", "community1", "--since", "1d", "--from", "-2d"], "--since"],
    [["history", "community1", "--json", "--csv"], "--json"],
    [["meters", "community1", "--sort", "size"], "--sort"],
    [["meters", "community1", "--limit", "0"], "--limit"],
    [["meters", "community1", "--json", "--csv"], "--json"],
    [["meters", "community1", "--watch", "--json"], "--watch"],
    [["meters", "bad.id"], "community"],
    [["meters"], "community"],
    [["serve", "--port", "70000"], "--port"],
    [["serve", "--workers", "many"], "--workers"],
    [["serve", "--workers", "0"], "--workers"],
    [["up", "--nats", "http://x"], "--nats"],
    [["nosuchcommand"], "nosuchcommand"],
    [["sim", "--scenario", "nosuchscenario"], "--scenario nosuchscenario"],
    [["sim", "--scenario", "village", "--meters", "3"], "--meters"],
    [["sim", "--faults", "dropout=2"], "dropout"],
    [["sim", "--faults", "meteor=0.1"], "meteor"],
    [["sim", "--speed", "0"], "--speed"],
    [["sim", "--start", "yesterday"], "--start"],
    [["sim", "--replay", "/nonexistent/trace.ndjson"], "--replay"],
    [["sim", "--phase", "random"], "--phase"],
    [["sim", "--jitter", "0.7"], "--jitter"],
    [["up", "--jitter", "-1"], "--jitter"],
    [["sim", "--replay", "/nonexistent/trace.ndjson", "--phase", "aligned"], "--phase"],
    [["sim", "--scenario", "mixed-cadence", "--level", "community"], "groups[0].intervalMs"],
    [["wear-emu", "--glances", "often"], "--glances"],
    [["wear-emu", "--compare", "--batch-delay", "20m"], "--batch-delay"],
    [["wear-emu", "--compare", "--replay", "/nonexistent/day.csv.gz"], "--replay"],
    [["wear-emu", "--watch", "usb"], "--watch"],
    [["wear-emu", "--watch", "adb", "--package", "energy"], "--package"],
    [["wear-emu", "--watch", "adb", "--receiver", "not a class"], "--receiver"],
    [["wear-emu", "--watch", "adb", "--reverse-port", "0"], "--reverse-port"],
    [["up", "--mqtt", "--nats", "nats://127.0.0.1:1"], "--mqtt"],
    [["up", "--cluster", "2"], "--cluster"],
    [["up", "--cluster", "three"], "--cluster"],
    [["up", "--cluster", "3", "--nats", "nats://127.0.0.1:4222"], "--cluster"],
    [["up", "--no-archive", "--archive-dir", "/tmp/archive"], "--archive-dir"],
  ])("ecwatch %j", async (args, named) => {
    const run = await runInProcess(args);
    expect(run.code).toBe(2);
    // One sentence (and commander's pointer to --help, or the fix), naming what was wrong.
    expect(run.stderr).toMatch(/^(error|ecwatch): [^\n]+\n/);
    expect(run.stderr.trim().split("\n").length).toBeLessThanOrEqual(2);
    expect(run.stderr.split("\n")[0]).toContain(named);
    expect(run.stdout).toBe("");
  });
});

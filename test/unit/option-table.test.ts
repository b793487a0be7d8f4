import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { addCommand, type CommandSpec, durationFlag, optionTable } from "../../src/cli/option-table.js";
import { ExitCode } from "../../src/errors.js";

interface DemoFlags {
  readonly every: number;
  readonly json?: boolean;
}

const run = async (): Promise<ExitCode> => ExitCode.Ok;

describe("an option table", () => {
  it("needs an entry for every flag of the interface, and no other (checked by the type checker)", () => {
    const every = durationFlag("--every <duration>", "how often", { default: 60_000 });
    const complete = optionTable<DemoFlags>()({ every, json: { flags: "--json", description: "JSON" } });
    // @ts-expect-error -- `json` of DemoFlags has no entry.
    optionTable<DemoFlags>()({ every });
    // @ts-expect-error -- `verbose` is not a flag of DemoFlags.
    optionTable<DemoFlags>()({ every, json: { flags: "--json", description: "JSON" }, verbose: { flags: "--verbose", description: "more" } });
    // @ts-expect-error -- `every` is a number, not a string.
    optionTable<DemoFlags>()({ every: { flags: "--every <n>", description: "how often", default: "1m" }, json: { flags: "--json", description: "JSON" } });
    expect(Object.keys(complete)).toEqual(["every", "json"]);
  });

  it("refuses an entry whose flag would land under another name", () => {
    const spec: CommandSpec<DemoFlags> = {
      name: "demo",
      description: "a demo",
      options: { every: durationFlag("--each <duration>", "how often"), json: { flags: "--json", description: "JSON" } },
      examples: ["ecwatch demo"],
      run,
    };
    expect(() => addCommand(new Command("ecwatch"), spec, () => undefined)).toThrow('--each <duration> stands under "every", not "each"');
  });

  it("hands the parsed flags and what the user wrote to the command", async () => {
    const seen: Array<{ flags: DemoFlags; given: boolean }> = [];
    const program = new Command("ecwatch");
    addCommand(
      program,
      {
        name: "demo",
        description: "a demo",
        options: optionTable<DemoFlags>()({ every: durationFlag("--every <duration>", "how often", { default: 60_000 }), json: { flags: "--json", description: "JSON" } }),
        examples: ["ecwatch demo"],
        check: (flags, given) => void seen.push({ flags, given: given("every") }),
        run,
      },
      () => undefined,
    );
    await program.parseAsync(["demo"], { from: "user" });
    await program.parseAsync(["demo", "--every", "2s", "--json"], { from: "user" });
    expect(seen).toEqual([
      { flags: { every: 60_000 }, given: false },
      { flags: { every: 2_000, json: true }, given: true },
    ]);
    expect(program.commands[0]!.helpInformation()).toContain("(default: 1m)");
  });
});

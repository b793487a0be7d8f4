import { Argument, type Command, Option } from "commander";
import { formatDuration } from "../domain/duration.js";
import type { ExitCode } from "../errors.js";
import type { StatusReport } from "./exit.js";
import { duration } from "./options.js";

/**
 * Options as data (issue 19; Vitest's `cli/cli-config.ts`): each command declares one table
 * with an entry per flag of its interface, and commander — still the parser — is built from it.
 */

/** One flag: how it is written, what it means, how its value is read, its default. */
export interface FlagSpec<Value> {
  /** commander's notation: `--json`, `--communities <n>`, `--mqtt [port]`. */
  readonly flags: string;
  readonly description: string;
  /** Reads the written value; throws commander's InvalidArgumentError with one sentence (exit code 2). */
  readonly parse?: (value: string, previous: Value | undefined) => Value;
  readonly default?: Value;
  /** The default as a user writes it, for --help (`1s`, not 1000); the value itself otherwise. */
  readonly defaultText?: string;
  /** Flags (their attribute names) that may not be given together with this one. */
  readonly conflicts?: readonly string[];
}

/** Every flag of the interface has an entry: a missing one is a type error. */
export type OptionTable<Flags> = { readonly [Key in keyof Flags]-?: FlagSpec<Exclude<Flags[Key], undefined>> };

/** An entry the interface does not have is a type error too (a spread would otherwise slip one in). */
type Exactly<Table, Given> = Given & { readonly [Key in Exclude<keyof Given, keyof Table>]: never };

/** The option table of a command whose flags are `Flags`: `optionTable<UpFlags>()({ … })`. */
export function optionTable<Flags>(): <Given extends OptionTable<Flags>>(table: Exactly<OptionTable<Flags>, Given>) => OptionTable<Flags> {
  return (table) => table;
}

/** A duration flag: read as `500ms`, `2s`, `5m`, `1h`, `1d` into milliseconds, and shown so in --help. */
export function durationFlag(flags: `--${string} <duration>`, description: string, options: { readonly min?: number; readonly default?: number } = {}): FlagSpec<number> {
  return {
    flags,
    description,
    parse: duration(options.min),
    ...(options.default !== undefined && { default: options.default, defaultText: formatDuration(options.default) }),
  };
}

/** A command's one positional argument. */
export interface ArgumentSpec<Value> {
  /** `<community>` (required) or `[community]` (optional). */
  readonly name: string;
  readonly description: string;
  readonly parse: (value: string) => Value;
}

/** A command as data: its table, its examples, and a lazy import of what it runs. */
export interface CommandSpec<Flags, Arg = never> {
  readonly name: string;
  readonly description: string;
  readonly argument?: ArgumentSpec<Arg>;
  readonly options: OptionTable<Flags>;
  readonly examples: readonly string[];
  /** Refuses combinations of flags (throws a UsageError); `given` says whether the user wrote a flag. */
  readonly check?: (flags: Flags, given: (flag: keyof Flags & string) => boolean) => void;
  /** Imports the command lazily (so that --help loads only what it shows) and runs it. */
  readonly run: (flags: Flags, argument: Arg) => Promise<ExitCode>;
}

/** The "Examples:" section of a command's help. */
export function examples(lines: readonly string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join("\n")}\n`;
}

/** The commander option of one entry; its attribute name must be the key it stands under. */
function toOption(key: string, spec: FlagSpec<unknown>): Option {
  const option = new Option(spec.flags, spec.description);
  if (option.attributeName() !== key) throw new Error(`option table: ${spec.flags} stands under "${key}", not "${option.attributeName()}"`);
  if (spec.parse) option.argParser(spec.parse);
  if (spec.default !== undefined) option.default(spec.default, spec.defaultText);
  if (spec.conflicts) option.conflicts([...spec.conflicts]);
  return option;
}

/** Adds the command built from `spec` to the program; its action hands the command's status to `report`. */
export function addCommand<Flags, Arg>(program: Command, spec: CommandSpec<Flags, Arg>, report: StatusReport): Command {
  const command = program.command(spec.name).description(spec.description);
  if (spec.argument) command.addArgument(new Argument(spec.argument.name, spec.argument.description).argParser(spec.argument.parse));
  for (const [key, flag] of Object.entries(spec.options as Record<string, FlagSpec<unknown>>)) command.addOption(toOption(key, flag));
  command.addHelpText("after", examples(spec.examples));
  command.action(async (...args: unknown[]) => {
    // commander passes the argument (when declared), the options, then the command.
    const self = args.at(-1) as Command;
    const flags = self.opts() as Flags;
    spec.check?.(flags, (flag) => self.getOptionValueSource(flag) === "cli");
    report(await spec.run(flags, (spec.argument ? args[0] : undefined) as Arg));
  });
  return command;
}

import { Command } from "commander";
import { exitCodeOf, exitNow, type StatusReport } from "./cli/exit.js";
import { addCommand, examples } from "./cli/option-table.js";
import { archive, exportCommand, query } from "./cli-program/archive-commands.js";
import { aggregate, bench, doctor, reset, serve, sim, up } from "./cli-program/run-commands.js";
import { history, meters, monitor, tail, wearEmu } from "./cli-program/view-commands.js";
import { ExitCode } from "./errors.js";
import { redactSecrets } from "./url.js";
import { VERSION } from "./version.js";

/**
 * The top of ecwatch: the program with every command (cli-program/ holds their option tables and
 * lazy imports, so that `--help` stays instant and heavy modules load only for the command that
 * needs them), and the one exit boundary. Commands build their adapters through app/.
 */

/** Where the program writes: the process's streams, or a test's. */
export interface ProgramOutput {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

const PROCESS_OUTPUT: ProgramOutput = { stdout: process.stdout, stderr: process.stderr };

/** The program; each command's action hands its status to `report` (default: the exit code of the process). */
export function buildProgram(report: StatusReport = (status) => void (process.exitCode = status), output: ProgramOutput = PROCESS_OUTPUT): Command {
  const program = new Command("ecwatch")
    .description("Run, watch and stress-test the data path of an energy community:\nsmart meters → NATS JetStream → aggregator → Redis + NATS KV → REST/SSE API.")
    .version(VERSION, "-V, --version")
    .option("--debug", "print stack traces of errors")
    .showHelpAfterError("(run with --help for usage)")
    // A usage error quotes the value it refused, which may be a URL with a password (issue 10).
    .configureOutput({
      writeOut: (text) => void output.stdout.write(text),
      writeErr: (text) => void output.stderr.write(text),
      outputError: (text, write) => write(redactSecrets(text)),
    })
    .addHelpText("after", examples(["ecwatch up", "ecwatch tail community1", "ecwatch sim --communities 5 --duration 1m --json"]));

  addCommand(program, up, report);
  addCommand(program, sim, report);
  addCommand(program, bench, report);
  addCommand(program, aggregate, report);
  addCommand(program, archive, report);
  addCommand(program, serve, report);
  addCommand(program, tail, report);
  addCommand(program, history, report);
  addCommand(program, query, report);
  addCommand(program, exportCommand, report);
  addCommand(program, meters, report);
  addCommand(program, monitor, report);
  addCommand(program, wearEmu, report);
  addCommand(program, reset, report);
  addCommand(program, doctor, report);
  return program;
}

/**
 * The one exit boundary: parses `argv` (node's, the script's path second), runs the command and
 * returns the exit code — usage errors 2, runtime failures 1, each with one sentence (cli/exit.ts).
 */
export async function runProgram(argv: readonly string[], output: ProgramOutput = PROCESS_OUTPUT): Promise<ExitCode> {
  let status: ExitCode = ExitCode.Ok;
  const program = buildProgram((reported) => (status = reported), output);
  program.exitOverride();
  program.commands.forEach((command) => command.exitOverride());
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    status = exitCodeOf(err, argv.includes("--debug"), output.stderr);
  }
  return status;
}

/** The process's entry (bin/ecwatch). */
export async function main(argv: string[]): Promise<void> {
  // A reader that stops early (`ecwatch tail c1 | head`) is not an error: stop quietly.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
    exitNow(ExitCode.Ok);
  });
  process.exitCode = await runProgram(argv);
}

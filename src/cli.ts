import { Command } from "commander";
import { examples, natsCredsOption, natsTlsCaOption, redisTlsCaOption } from "./cli/common-options.js";
import { exitCodeOf, exitNow, type StatusReport } from "./cli/exit.js";
import { addAggregateCommand, addBenchCommand, addDoctorCommand, addResetCommand, addServeCommand, addSimCommand, addUpCommand } from "./cli-program/run-commands.js";
import { addHistoryCommand, addMonitorCommand, addTailCommand, addWearEmuCommand } from "./cli-program/view-commands.js";
import { ExitCode } from "./errors.js";
import { redactSecrets } from "./url.js";
import { VERSION } from "./version.js";

/**
 * The top of ecwatch: the program with every command (cli-program/ holds their flags and lazy
 * imports, so that `--help` stays instant and heavy modules load only for the command that
 * needs them), and the one exit boundary. Commands build their adapters through app/.
 */

/** The program; each command's action hands its status to `report` (default: the exit code of the process). */
export function buildProgram(report: StatusReport = (status) => void (process.exitCode = status)): Command {
  const program = new Command("ecwatch")
    .description("Run, watch and stress-test the data path of an energy community:\nsmart meters → NATS JetStream → aggregator → Redis + NATS KV → REST/SSE API.")
    .version(VERSION, "-V, --version")
    .option("--debug", "print stack traces of errors")
    .showHelpAfterError("(run with --help for usage)")
    // A usage error quotes the value it refused, which may be a URL with a password (issue 10).
    .configureOutput({ outputError: (text, write) => write(redactSecrets(text)) })
    .addHelpText("after", examples("ecwatch up", "ecwatch tail community1", "ecwatch sim --communities 5 --duration 1m --json"));

  addUpCommand(program, report);
  addSimCommand(program, report);
  addBenchCommand(program, report);
  addAggregateCommand(program, report);
  addServeCommand(program, report);
  addTailCommand(program, report);
  addHistoryCommand(program, report);
  addMonitorCommand(program, report);
  addWearEmuCommand(program, report);
  addResetCommand(program, report);
  addDoctorCommand(program, report);

  // Every command that connects to NATS or Redis also takes their credentials and CA files.
  for (const command of program.commands) {
    if (command.options.some((option) => option.long === "--nats")) command.addOption(natsCredsOption()).addOption(natsTlsCaOption());
    if (command.options.some((option) => option.long === "--redis")) command.addOption(redisTlsCaOption());
  }
  return program;
}

/** The one exit boundary: usage errors exit 2, runtime failures 1, each with one sentence (cli/exit.ts). */
export async function main(argv: string[]): Promise<void> {
  let status: ExitCode = ExitCode.Ok;
  // A reader that stops early (`ecwatch tail c1 | head`) is not an error: stop quietly.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
    exitNow(status);
  });
  const program = buildProgram((reported) => (status = reported));
  program.exitOverride();
  program.commands.forEach((command) => command.exitOverride());
  const debug = argv.includes("--debug");
  try {
    await program.parseAsync(argv);
  } catch (err) {
    status = exitCodeOf(err, debug);
  }
  process.exitCode = status;
}

import { CommanderError } from "commander";
import { EcwatchError, ExitCode, errorMessage } from "../errors.js";

/**
 * The one exit boundary (issue 16): commands return a status, errors travel up as exceptions,
 * and only here do they become a message on stderr and an exit code: 0 ok, 1 runtime failure,
 * 2 bad usage.
 */

/** Where a command's action hands its status (exit code) to the boundary. */
export type StatusReport = (status: ExitCode) => void;

/** Says what went wrong in one sentence (with the fix, and the stack with --debug) and returns the exit code. */
export function exitCodeOf(err: unknown, debug: boolean, stderr: NodeJS.WritableStream = process.stderr): ExitCode {
  if (err instanceof CommanderError) {
    // commander already printed the message (or the help / version).
    return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  }
  if (err instanceof EcwatchError) {
    stderr.write(`ecwatch: ${err.message}${err.hint ? `\n  ${err.hint}` : ""}\n`);
    if (debug && err.cause) stderr.write(`${(err.cause as Error).stack ?? String(err.cause)}\n`);
    return err.exitCode;
  }
  stderr.write(`ecwatch: unexpected error: ${errorMessage(err)}\n  Run again with --debug for details.\n`);
  if (debug && err instanceof Error) stderr.write(`${err.stack}\n`);
  return ExitCode.Failure;
}

/**
 * Ends the process at once, for the two ways out that cannot wait for a command to return: a
 * second Ctrl-C during a hung shutdown, and a reader that closed stdout. The only process.exit.
 */
export function exitNow(code: number): never {
  process.exit(code);
}

import { Writable } from "node:stream";
import { runProgram } from "../../src/cli.js";

/** What `ecwatch <args>` did, run in this process through the real program and exit boundary. */
export interface ProgramRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A stream that keeps what is written to it. */
class Collected extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += String(chunk);
    done();
  }
}

/**
 * Runs `ecwatch <args>` in-process (cli.ts `runProgram`): parsing, help, usage errors and the exit
 * code as a spawned process would give them, in milliseconds. Only for what ends before a command
 * reaches a server: a command that gets that far runs for real.
 */
export async function runInProcess(args: readonly string[]): Promise<ProgramRun> {
  const stdout = new Collected();
  const stderr = new Collected();
  const code = await runProgram(["node", "ecwatch", ...args], { stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

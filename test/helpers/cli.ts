import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../bin/ecwatch", import.meta.url));

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running `ecwatch` process whose output can be awaited. */
export class CliProcess {
  stdout = "";
  stderr = "";
  readonly exited: Promise<CliRun>;
  private readonly child: ChildProcess;

  constructor(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: "1", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => {
      this.child.on("close", (code, signal) => resolve({ code, signal, stdout: this.stdout, stderr: this.stderr }));
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Whether the process has not exited yet. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first match of `pattern` in stdout, or fails (with the output) after `timeoutMs` or on exit. */
  waitForStdout(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    return this.waitFor("stdout", pattern, timeoutMs);
  }

  /** The same for stderr, where the services print their ready line. */
  waitForStderr(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    return this.waitFor("stderr", pattern, timeoutMs);
  }

  private async waitFor(stream: "stdout" | "stderr", pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (;;) {
      const match = this[stream].match(pattern);
      if (match) return match;
      if (exited || Date.now() > deadline) {
        throw new Error(`no ${pattern} in ${stream} (${exited ? "process exited" : "timed out"})\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  kill(signal: NodeJS.Signals = "SIGINT"): void {
    this.child.kill(signal);
  }
}

/** Runs `ecwatch` to completion (killed after `timeoutMs`). */
export async function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliRun> {
  const cli = new CliProcess(args, options);
  const timer = setTimeout(() => cli.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  const run = await cli.exited;
  clearTimeout(timer);
  return run;
}

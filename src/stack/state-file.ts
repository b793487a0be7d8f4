import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ServerKind } from "./local-server.js";

/** What a running `ecwatch up` tells the other commands, in `.ecwatch/state.json`. */
export interface StackState {
  /** pid of the `ecwatch up` process. */
  readonly pid: number;
  readonly api: string;
  readonly nats: string;
  readonly redis: string;
  /** nats-server's MQTT listener, with `up --mqtt`. */
  readonly mqtt?: string;
  /** The directory up's archiver writes (an absolute path); absent with `up --no-archive`. */
  readonly archive?: string;
  /** Servers that `up` started itself (not the ones it was given). */
  readonly servers: ReadonlyArray<{ readonly kind: ServerKind; readonly pid: number }>;
  readonly startedAt: string;
}

export const STATE_DIR = ".ecwatch";
export const stateFile = (dir: string): string => join(dir, "state.json");

export function readState(dir: string): StackState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(dir), "utf8")) as StackState;
  } catch {
    return undefined;
  }
}

export function writeState(dir: string, state: StackState): void {
  mkdirSync(dir, { recursive: true });
  const tmp = `${stateFile(dir)}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, stateFile(dir));
}

export function removeState(dir: string): void {
  rmSync(stateFile(dir), { force: true });
}

/** Whether a process runs; a zombie (exited, not yet reaped by its parent) does not. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  return processState(pid) !== "Z";
}

/** The state letter of /proc/<pid>/stat (R, S, Z, …), or undefined off Linux. */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return undefined;
  }
}

/** The command line of a process, or undefined where /proc cannot tell (not Linux). */
function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return undefined;
  }
}

/** Whether a live pid still runs `program` (a pid may have been reused since it was recorded). */
function runs(pid: number, program: string): boolean {
  return isAlive(pid) && (commandLine(pid)?.includes(program) ?? true);
}

/** The state of an `up` that is still running in `dir`, if any (a reused pid does not count). */
export function runningStack(dir: string): StackState | undefined {
  const state = readState(dir);
  return state && runs(state.pid, "ecwatch") ? state : undefined;
}

/**
 * After an `up` that was killed (SIGKILL, a crash), its servers may still run: stop
 * those whose pid still belongs to nats-server or redis-server. Returns the pids stopped.
 */
export async function reapOrphans(dir: string): Promise<number[]> {
  const state = readState(dir);
  if (!state || runningStack(dir)) return [];
  const reaped: number[] = [];
  for (const server of state.servers) {
    const program = server.kind === "nats" ? "nats-server" : "redis-server";
    if (runs(server.pid, program)) {
      process.kill(server.pid, "SIGKILL");
      reaped.push(server.pid);
    }
  }
  // Their ports are free only once they are gone.
  const deadline = Date.now() + 5_000;
  while (reaped.some(isAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  if (existsSync(stateFile(dir))) removeState(dir);
  return reaped;
}

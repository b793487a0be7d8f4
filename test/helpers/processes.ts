import { execFileSync } from "node:child_process";

/** The pids of a process's children, those whose command line matches `pattern` when given (pgrep -P [-f]). */
export function childrenOf(pid: number, pattern?: string): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid), ...(pattern ? ["-f", pattern] : [])], { encoding: "utf8" }).split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Those of `pids` still running. */
export function stillRunning(pids: readonly number[]): number[] {
  return pids.filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
}

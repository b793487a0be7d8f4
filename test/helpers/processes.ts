import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

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

/**
 * Which of `pids` holds the server's end of the TCP connection (IPv4) whose client end is on
 * local port `clientPort`, read from /proc; undefined when none does. With node:cluster it names
 * the worker a connection went to.
 */
export function connectionOwner(pids: readonly number[], clientPort: number): number | undefined {
  const inodes = new Set<string>();
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    const fields = line.trim().split(/\s+/);
    if (fields.length > 9 && Number.parseInt(fields[2]!.split(":")[1]!, 16) === clientPort) inodes.add(fields[9]!);
  }
  return pids.find((pid) =>
    readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return inodes.has(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? "");
      } catch {
        return false; // closed since readdir
      }
    }),
  );
}

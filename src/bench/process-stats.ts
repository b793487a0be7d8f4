import { readFileSync } from "node:fs";
import type { ProcessKey } from "./thresholds.js";

/** CPU time and memory of one process, from /proc (Linux). */
export interface ProcessSample {
  /** User + system CPU time in ms. */
  readonly cpuMs: number;
  readonly rssBytes: number;
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** Parses /proc/<pid>/stat: utime and stime are fields 14 and 15, counted after the `(comm)`. */
export function parseStat(stat: string, pageBytes = 4096): ProcessSample {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state): utime = field 14 → fields[11], stime → fields[12], rss (pages) = field 24 → fields[21].
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { cpuMs: (ticks * 1000) / USER_HZ, rssBytes: Number(fields[21]) * pageBytes };
}

export function sampleProcess(pid: number): ProcessSample | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/** What a process used over a measured stretch. */
export interface ProcessUsage {
  /** The short name thresholds use: aggregator, api, nats, redis, bench. */
  readonly key: ProcessKey;
  readonly name: string;
  readonly pid: number;
  /** CPU time over the measured stretch, in ms. */
  readonly cpuMs: number;
  /** Share of one core, in %. */
  readonly cpuPercent: number;
  readonly peakRssMb: number;
}

/**
 * Samples named processes every `intervalMs`: CPU over the whole stretch (from the first to
 * the last sample) and the highest RSS seen.
 */
export class ProcessMonitor {
  private readonly first = new Map<number, { atMs: number; sample: ProcessSample }>();
  private readonly last = new Map<number, { atMs: number; sample: ProcessSample }>();
  private readonly peakRss = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  private usage: ProcessUsage[] | undefined;

  constructor(private readonly processes: ReadonlyArray<{ readonly key: ProcessKey; readonly name: string; readonly pid: number }>) {}

  start(intervalMs = 500): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Stops sampling and returns the usage; later calls return the same. */
  stop(): ProcessUsage[] {
    if (this.usage) return this.usage;
    clearInterval(this.timer);
    this.sample();
    this.usage = this.processes.map(({ key, name, pid }) => {
      const first = this.first.get(pid);
      const last = this.last.get(pid);
      const wallMs = first && last ? last.atMs - first.atMs : 0;
      const cpuPercent = first && last && wallMs > 0 ? ((last.sample.cpuMs - first.sample.cpuMs) / wallMs) * 100 : 0;
      return { key, name, pid, cpuMs: first && last ? Math.round(last.sample.cpuMs - first.sample.cpuMs) : 0, cpuPercent: Math.round(cpuPercent * 10) / 10, peakRssMb: Math.round(((this.peakRss.get(pid) ?? 0) / 1_048_576) * 10) / 10 };
    });
    return this.usage;
  }

  private sample(): void {
    const atMs = performance.now();
    for (const { pid } of this.processes) {
      const sample = sampleProcess(pid);
      if (!sample) continue;
      if (!this.first.has(pid)) this.first.set(pid, { atMs, sample });
      this.last.set(pid, { atMs, sample });
      this.peakRss.set(pid, Math.max(this.peakRss.get(pid) ?? 0, sample.rssBytes));
    }
  }
}

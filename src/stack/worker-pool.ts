import cluster, { type Worker } from "node:cluster";
import { availableParallelism } from "node:os";
import { EcwatchError } from "../errors.js";

/**
 * The processes of `ecwatch serve --workers` (issue 21): node:cluster, since Node 20 has no
 * `reusePort` (it arrived in 22.12). The primary forks the workers (each re-runs the same
 * command line and finds itself a worker), shares the listening socket among them, replaces a
 * worker that dies with a back-off, and stops them all on stop(). What a worker runs is the
 * caller's; this module only keeps the processes.
 */

/** `--workers`: `auto` (one per core) or a count. */
export type WorkerCount = "auto" | number;

/** The number of processes `count` means on this machine. */
export function workerCount(count: WorkerCount): number {
  return count === "auto" ? availableParallelism() : count;
}

/** True in a process forked by a WorkerPool. */
export function isPoolWorker(): boolean {
  return cluster.isWorker;
}

export interface RestartPolicy {
  /** The delay before the second replacement within `windowMs`; it doubles with each further crash. */
  readonly baseMs: number;
  /** The longest delay. */
  readonly maxMs: number;
  /** Crashes older than this no longer count. */
  readonly windowMs: number;
}

/** A lone crash is replaced at once; a crash loop slows to one try every 10 s. */
export const DEFAULT_RESTART: RestartPolicy = { baseMs: 100, maxMs: 10_000, windowMs: 60_000 };

/** The delay before replacing a worker, given the times of the crashes so far (this one included). */
export function restartDelayMs(crashesAtMs: readonly number[], nowMs: number, policy: RestartPolicy = DEFAULT_RESTART): number {
  const recent = crashesAtMs.filter((atMs) => nowMs - atMs < policy.windowMs).length;
  if (recent <= 1) return 0;
  return Math.min(policy.maxMs, policy.baseMs * 2 ** (recent - 2));
}

/** A worker that left without being asked to, and when its replacement is forked. */
export interface WorkerExit {
  readonly pid: number;
  readonly code: number | null;
  readonly signal: string | null;
  readonly replaceInMs: number;
}

export interface WorkerPoolOptions {
  readonly count: number;
  /** The command line the workers run (after the script); default this process's own. */
  readonly args?: readonly string[];
  /** Variables added to the workers' environment (e.g. a token, kept out of `ps`). */
  readonly env?: Readonly<Record<string, string>>;
  /** Default DEFAULT_RESTART. */
  readonly restart?: RestartPolicy;
  /** Called when a worker dies and is to be replaced (for the log). */
  readonly onExit?: (exit: WorkerExit) => void;
  /** How long stop() waits for a worker before SIGKILL; default 10 s. */
  readonly stopTimeoutMs?: number;
}

/** The message a worker sends once it serves: its URL. */
const READY = "ecwatch:worker-ready";

interface ReadyMessage {
  readonly type: typeof READY;
  readonly url: string;
}

const isReady = (message: unknown): message is ReadyMessage => (message as ReadyMessage | null)?.type === READY;

/** In a worker: tells the primary it serves `url`. */
export function reportReady(url: string): void {
  process.send?.({ type: READY, url } satisfies ReadyMessage);
}

/**
 * In a worker: resolves when the primary asks it to stop (SIGTERM) or is gone (the IPC channel
 * closed). Ctrl-C reaches the whole process group; a worker leaves it to the primary, which
 * stops the workers one way, so SIGINT is ignored here.
 */
export function untilReleased(): Promise<void> {
  return new Promise((resolve) => {
    const ignore = (): void => {};
    process.on("SIGINT", ignore);
    process.once("SIGTERM", () => resolve());
    process.once("disconnect", () => resolve());
  });
}

/**
 * In a worker: the IPC channel to the primary no longer keeps the process alive, so it ends once
 * its API has stopped (or failed to start), with its own exit code. (process.disconnect() would
 * end it too, but node:cluster then exits 0, and a worker that failed must say 1.)
 */
export function unrefChannel(): void {
  process.channel?.unref();
}

export class WorkerPool {
  private readonly workers = new Set<Worker>();
  /** The workers that reported ready and have not exited: those that serve. */
  private readonly serving = new Set<Worker>();
  private readonly crashesAtMs: number[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly options: WorkerPoolOptions,
    /** The URL the workers serve (the first to report it). */
    readonly url: string,
  ) {}

  /** Forks `count` workers and resolves once each reported ready; rejects (and stops those started) if one exits before. */
  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    if (options.args) cluster.setupPrimary({ args: [...options.args] });
    const forked = Array.from({ length: options.count }, () => cluster.fork(options.env));
    let url: string;
    try {
      const urls = await Promise.all(forked.map(untilReady));
      url = urls[0]!;
    } catch (err) {
      await Promise.all(forked.map((worker) => stopWorker(worker, options.stopTimeoutMs ?? 10_000)));
      throw err;
    }
    const pool = new WorkerPool(options, url);
    for (const worker of forked) {
      pool.watch(worker);
      pool.serving.add(worker);
    }
    return pool;
  }

  /** The workers serving now (a replacement counts once it reported ready). */
  get members(): Worker[] {
    return [...this.serving];
  }

  /** Stops every worker (SIGTERM, then SIGKILL after the timeout) and replaces none; once, however often called. */
  stop(): Promise<void> {
    return (this.stopping ??= (async () => {
      for (const timer of this.timers) clearTimeout(timer);
      this.timers.clear();
      await Promise.all([...this.workers].map((worker) => stopWorker(worker, this.options.stopTimeoutMs ?? 10_000)));
    })());
  }

  private watch(worker: Worker): void {
    this.workers.add(worker);
    worker.once("exit", (code, signal) => {
      this.workers.delete(worker);
      this.serving.delete(worker);
      if (this.stopping) return;
      const nowMs = Date.now();
      this.crashesAtMs.push(nowMs);
      const windowMs = (this.options.restart ?? DEFAULT_RESTART).windowMs;
      while (this.crashesAtMs.length > 0 && nowMs - this.crashesAtMs[0]! >= windowMs) this.crashesAtMs.shift();
      const replaceInMs = restartDelayMs(this.crashesAtMs, nowMs, this.options.restart);
      this.options.onExit?.({ pid: worker.process.pid!, code, signal, replaceInMs });
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.stopping) return;
        const replacement = cluster.fork(this.options.env);
        this.watch(replacement);
        // One that dies before it serves is replaced by the exit handler of watch().
        untilReady(replacement).then(
          () => this.serving.add(replacement),
          () => undefined,
        );
      }, replaceInMs);
      this.timers.add(timer);
    });
  }
}

/** Resolves with the URL a new worker reports; rejects if it exits first. */
function untilReady(worker: Worker): Promise<string> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null, signal: string | null): void => {
      worker.off("message", onMessage);
      reject(
        new EcwatchError("WORKER_FAILED", `An API worker exited (${signal ?? `code ${code}`}) before it served.`, {
          hint: "Its own error is printed above; fix that and start again.",
        }),
      );
    };
    const onMessage = (message: unknown): void => {
      if (!isReady(message)) return;
      worker.off("exit", onExit);
      worker.off("message", onMessage);
      resolve(message.url);
    };
    worker.on("message", onMessage);
    worker.once("exit", onExit);
  });
}

/** SIGTERM, and SIGKILL if the worker has not exited within `timeoutMs`. */
function stopWorker(worker: Worker, timeoutMs: number): Promise<void> {
  if (worker.isDead()) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => worker.process.kill("SIGKILL"), timeoutMs);
    worker.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    worker.process.kill("SIGTERM");
  });
}

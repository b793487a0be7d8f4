import type { Registry } from "prom-client";
import { answerClusterMetrics } from "../prometheus/cluster-metrics.js";
import { reportReady, unrefChannel, untilReleased, type WorkerExit, WorkerPool } from "../stack/worker-pool.js";
import { type ApiOptions, startApi } from "./services.js";

/**
 * `serve --workers <n>` (issue 21): the primary keeps the pool and answers /metrics for it; each
 * worker runs the whole API (its own connections, change-feed subscription and clients) on the
 * shared port. SSE ids are the aggregate's `<epoch>:<version>`, the same from every worker.
 */

/** The primary's side of a running pool. */
export interface ApiPool {
  readonly url: string;
  stop(): Promise<void>;
}

export interface ApiPoolOptions {
  /** The workers' command line (a `serve --workers <count> …`); default this process's own. */
  readonly args?: readonly string[];
  /** Added to the workers' environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** The metrics of services in the primary, served on the workers' /metrics too (`up`'s aggregator). */
  readonly inProcessMetrics?: readonly Registry[];
  /** A worker died and is to be replaced (for the log). */
  readonly onExit?: (exit: WorkerExit) => void;
}

/** In the primary: forks `count` workers and resolves once all serve. */
export async function startApiPool(count: number, options: ApiPoolOptions = {}): Promise<ApiPool> {
  let pool: WorkerPool | undefined;
  const stopAnswering = answerClusterMetrics(() => pool?.members ?? [], options.inProcessMetrics);
  try {
    pool = await WorkerPool.start({ count, args: options.args, env: options.env, onExit: options.onExit });
    const started = pool;
    return {
      url: pool.url,
      stop: async () => {
        await started.stop();
        stopAnswering();
      },
    };
  } catch (err) {
    stopAnswering();
    throw err;
  }
}

/** In a worker of a pool of `workers`: serves until the primary releases it, then stops. */
export async function runApiWorker(natsUrl: string, redisUrl: string, host: string, port: number, workers: number, options: ApiOptions): Promise<void> {
  unrefChannel();
  const api = await startApi(natsUrl, redisUrl, host, port, { ...options, poolWorkers: workers });
  reportReady(api.url);
  await untilReleased();
  await api.stop();
}

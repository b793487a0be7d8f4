import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { startRedis } from "../../src/stack/local-server.js";
import { type AggregationService, type ApiService, startAggregation, startApi } from "../../src/app/services.js";
import { startLocalNats, startLocalRedis } from "../../src/app/stack.js";

export interface TestStack {
  readonly natsUrl: string;
  readonly redisUrl: string;
  readonly dir: string;
  /**
   * Stops redis-server, runs `duringOutage`, then starts an empty redis-server on the same
   * port (a cache that lost everything), and resolves with what `duringOutage` returned.
   */
  restartRedis<T>(duringOutage: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

/** A real nats-server (JetStream) and redis-server on free loopback ports, in a temp dir. */
export async function startTestStack(): Promise<TestStack> {
  const dir = mkdtempSync(join(tmpdir(), "ecwatch-test-"));
  const nats = await startLocalNats(dir);
  let redis = await startLocalRedis(dir).catch(async (err) => {
    await nats.stop();
    throw err;
  });
  let redisStarts = 1;
  return {
    natsUrl: nats.url,
    redisUrl: redis.url,
    dir,
    restartRedis: async (duringOutage) => {
      await redis.stop();
      try {
        return await duringOutage();
      } finally {
        redisStarts += 1;
        // A new, empty data dir: the server starts with nothing, as after a lost disk.
        redis = await startRedis({ dataDir: join(dir, `redis-${redisStarts}`), preferredPort: redis.port, strictPort: true });
      }
    },
    stop: async () => {
      await Promise.all([nats.stop(), redis.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** How long one probe may take before it is abandoned and tried again (a stalled KV listing, a hung fetch). */
const PROBE_TIMEOUT_MS = 5_000;

/**
 * Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`.
 * A probe that does not settle is given up after 5 s (or the time left) and tried again, so a
 * stalled request cannot hold the test past its deadline.
 */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("a probe did not settle")), Math.min(PROBE_TIMEOUT_MS, Math.max(1, deadline - Date.now())));
    });
    try {
      const value = await Promise.race([probe(), stalled]);
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    } finally {
      clearTimeout(timer);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
}

/** The archive's directory of a pipeline's API. */
export const archiveDirOf = (stack: TestStack): string => join(stack.dir, "archive");

export interface Pipeline {
  stack: TestStack;
  aggregation: AggregationService;
  api: ApiService;
}

/**
 * Real servers with an aggregator (stale after 30 s) and an API on a free port, started
 * before the tests of a file and stopped after them. A test may replace `aggregation`. The API
 * reads meters' histories from `archive/` in the stack's directory, which no archiver writes: a
 * test puts segments there itself.
 */
export function usePipeline(): Pipeline {
  const pipeline = {} as Pipeline;
  beforeAll(async () => {
    pipeline.stack = await startTestStack();
    pipeline.aggregation = await startAggregation(pipeline.stack.natsUrl, pipeline.stack.redisUrl, { staleAfterMs: 30_000 });
    pipeline.api = await startApi(pipeline.stack.natsUrl, pipeline.stack.redisUrl, "127.0.0.1", 0, { archiveDir: archiveDirOf(pipeline.stack) });
  });
  afterAll(async () => {
    await pipeline.api?.stop();
    await pipeline.aggregation?.stop();
    await pipeline.stack?.stop();
  });
  return pipeline;
}

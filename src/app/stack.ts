import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ConnectionSecurity, ENV_NAMES, securityEnv } from "../config/connection-settings.js";
import { EcwatchError } from "../errors.js";
import type { ProcessKey } from "../bench/thresholds.js";
import { type LocalServer, startNats, startRedis } from "../stack/local-server.js";
import { startNatsCluster } from "../stack/nats-cluster.js";
import { freePort } from "../stack/ports.js";
import { STATE_DIR } from "../stack/state-file.js";

/** The ecwatch CLI, relative to this module in both src/ and dist/. */
const BIN = fileURLToPath(new URL("../../bin/ecwatch", import.meta.url));

export interface MeasuredProcess {
  /** The short name thresholds use (`cpu.aggregator<80%`). */
  readonly key: ProcessKey;
  readonly name: string;
  readonly pid: number;
}

/** What a benchmark runs against, and the processes whose CPU and memory it reports. */
export interface BenchStack {
  readonly natsUrl: string;
  readonly apiUrl: string;
  readonly processes: readonly MeasuredProcess[];
  stop(): Promise<void>;
}

export interface BenchTargets {
  readonly nats?: string;
  readonly redis?: string;
  /** An API already running (with its aggregator): nothing of ecwatch is started. */
  readonly api?: string;
  /** Credentials and TLS besides the URLs' own. */
  readonly security?: ConnectionSecurity;
  /** The API at a URL, to wait until one started here is healthy (the command passes the HTTP API client). */
  readonly apiAt: (url: string) => HealthCheck;
}

/** What the stack needs of the API it starts: its /healthz answer; rejects when nothing answers. */
export interface HealthCheck {
  healthz(options: { readonly timeoutMs: number }): Promise<{ readonly status: number }>;
}

/**
 * What `up`, `bench` and the tests start: local servers and the services on them (issue 16).
 */

/** A nats-server with JetStream on a free loopback port, its data in `dir`/nats. */
export async function startLocalNats(dir: string): Promise<LocalServer> {
  return startNats({ dataDir: join(dir, "nats"), preferredPort: await freePort() });
}

/** A redis-server on a free loopback port, its data in `dir`/redis. */
export async function startLocalRedis(dir: string): Promise<LocalServer> {
  return startRedis({ dataDir: join(dir, "redis"), preferredPort: await freePort() });
}

/** Everything `up` started (servers, services), stopped in reverse order. */
export class Started {
  private readonly stops: Array<() => Promise<unknown>> = [];

  add(stop: () => Promise<unknown>): void {
    this.stops.push(stop);
  }

  async stopAll(): Promise<void> {
    for (const stop of this.stops.reverse()) await stop().catch(() => undefined);
  }
}

/** nats-server's client port. */
const NATS_PORT = 4222;

/** Starts one server, records it in `servers` (a second Ctrl-C kills them) and stops it with the rest. */
async function startServer(start: () => Promise<LocalServer>, servers: LocalServer[], started: Started): Promise<LocalServer> {
  const server = await start();
  servers.push(server);
  started.add(() => server.stop());
  return server;
}

/** One nats-server, or with `clusterSize` a cluster of them; each is recorded in `servers`. */
export async function startOwnNats(clusterSize: number | undefined, mqttPreferredPort: number | undefined, servers: LocalServer[], started: Started): Promise<{ url: string; mqttUrl?: string }> {
  if (clusterSize === undefined) return startServer(() => startNats({ dataDir: join(STATE_DIR, "nats"), mqttPreferredPort }), servers, started);
  const cluster = await startNatsCluster({ dataDir: join(STATE_DIR, "nats-cluster"), size: clusterSize, preferredPort: NATS_PORT, mqttPreferredPort });
  servers.push(...cluster.nodes);
  started.add(() => cluster.stop());
  return cluster;
}

/** `up`'s redis-server, its data in the state dir; recorded in `servers`. */
export function startOwnRedis(servers: LocalServer[], started: Started): Promise<LocalServer> {
  return startServer(() => startRedis({ dataDir: join(STATE_DIR, "redis") }), servers, started);
}

/**
 * Starts what is not given: nats-server and redis-server in a temp dir, and the aggregator and
 * the API as separate `ecwatch aggregate` / `ecwatch serve` processes, so each one's CPU and
 * memory can be told apart. Everything started is stopped by `stop()`, also after a failure.
 */
export async function startBenchStack(targets: BenchTargets): Promise<BenchStack> {
  const stops: Array<() => Promise<void>> = [];
  const processes: MeasuredProcess[] = [{ key: "bench", name: "bench (sim + SSE clients)", pid: process.pid }];
  const stop = async (): Promise<void> => {
    for (const one of stops.reverse()) await one().catch(() => undefined);
  };
  /** The given URL, or a server started here, measured and stopped with the rest. */
  const serverUnlessGiven = async (given: string | undefined, start: () => Promise<LocalServer>): Promise<string> => {
    if (given) return given;
    const server = await start();
    stops.push(() => server.stop());
    processes.push(server.kind === "nats" ? { key: "nats", name: "nats-server", pid: server.pid } : { key: "redis", name: "redis-server", pid: server.pid });
    return server.url;
  };
  try {
    const dir = mkdtempSync(join(tmpdir(), "ecwatch-bench-"));
    stops.push(async () => rmSync(dir, { recursive: true, force: true }));
    const natsUrl = await serverUnlessGiven(targets.nats, () => startLocalNats(dir));
    let apiUrl = targets.api;
    // Against a running API (a deployment) nothing else is started: its aggregator has its own Redis.
    if (!apiUrl) {
      const redisUrl = await serverUnlessGiven(targets.redis, () => startLocalRedis(dir));
      // URLs and credentials go in the environment: a command line is visible to every user (ps).
      const env = { [ENV_NAMES.nats]: natsUrl, [ENV_NAMES.redis]: redisUrl, ...securityEnv(targets.security) };
      const aggregator = startChild("aggregate", [], env);
      stops.push(aggregator.stop);
      processes.push({ key: "aggregator", name: "ecwatch aggregate", pid: aggregator.pid });
      const port = await freePort();
      // One process: its CPU and memory are what the bench measures by pid (issue 21's workers would be its children).
      const api = startChild("serve", ["--workers", "1", "--port", String(port)], env);
      stops.push(api.stop);
      processes.push({ key: "api", name: "ecwatch serve", pid: api.pid });
      apiUrl = `http://127.0.0.1:${port}`;
      await Promise.race([untilHealthy(targets.apiAt(apiUrl), apiUrl), aggregator.failed, api.failed]);
    }
    return { natsUrl, apiUrl, processes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

interface Child {
  readonly pid: number;
  /** Rejects when the process exits before `stop()`. */
  readonly failed: Promise<never>;
  stop(): Promise<void>;
}

/**
 * With ECWATCH_CPU_PROF=<dir>, the aggregator and the API write a V8 CPU profile there when they
 * stop (`node --cpu-prof`; open it in Chrome DevTools → Performance, or speedscope).
 */
function profilingFlags(): string[] {
  const dir = process.env.ECWATCH_CPU_PROF;
  return dir ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : [];
}

function startChild(command: string, args: string[], env: Record<string, string>): Child {
  const child: ChildProcess = spawn(process.execPath, [...profilingFlags(), BIN, command, ...args], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NO_COLOR: "1", ...env } });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-2_000)));
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const failed = new Promise<never>((_, reject) =>
    child.once("exit", () => {
      if (!stopping) reject(new EcwatchError("BENCH_SERVICE_FAILED", `ecwatch ${command} exited during the benchmark: ${stderr.trim() || "no output"}.`));
    }),
  );
  failed.catch(() => undefined);
  return {
    pid: child.pid!,
    failed,
    stop: async () => {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function untilHealthy(api: HealthCheck, apiUrl: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await api.healthz({ timeoutMs: 1_000 }).then(({ status }) => status >= 200 && status < 300, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new EcwatchError("BENCH_SERVICE_FAILED", `The API at ${apiUrl} did not become healthy within ${timeoutMs / 1000} s.`);
}

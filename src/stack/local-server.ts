import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { EcwatchError } from "../errors.js";
import { partitionMappings } from "../wire/names.js";
import { requireProgram } from "./binaries.js";
import { natsConfig } from "./nats-config.js";
import { preferredOrFreePort } from "./ports.js";

export type ServerKind = "nats" | "redis";

/** A nats-server or redis-server this process started. */
export interface LocalServer {
  readonly kind: ServerKind;
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly logFile: string;
  /** nats-server's MQTT listener, when asked for one. */
  readonly mqttUrl?: string;
  /** Stops the server (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
  /** Kills it at once (SIGKILL), for an exit that cannot wait. */
  kill(): void;
}

export interface LocalServerOptions {
  /** Where the server keeps its data and log. */
  readonly dataDir: string;
  /** Port to use when free; another free port otherwise. Default 4222 / 6379. */
  readonly preferredPort?: number;
  /** Take `preferredPort` or fail, never another port: a restart that clients reconnect to. */
  readonly strictPort?: boolean;
  /** How long to wait for the server to answer. Default 15 s. */
  readonly readyTimeoutMs?: number;
}

export interface NatsServerOptions extends LocalServerOptions {
  /** Also open an MQTT listener for devices: on this port when free (with `strictPort`, or fail), another free port otherwise. */
  readonly mqttPreferredPort?: number;
  /** nats-server's name; keep it per data dir, JetStream's data belongs to it. Default `ecwatch`. */
  readonly serverName?: string;
  /** Join a cluster: ready once this node's routes reach all the others. */
  readonly cluster?: NatsClusterMembership;
}

/** A node's place in a cluster on loopback. */
export interface NatsClusterMembership {
  readonly name: string;
  /** This node's route port. */
  readonly port: number;
  /** The route ports of the other nodes. */
  readonly peerPorts: readonly number[];
}

const LOOPBACK = "127.0.0.1";
const STOP_GRACE_MS = 5_000;

/** Sends `probe` (if any) on a fresh TCP connection and resolves with the first bytes back. */
function firstReply(port: number, probe: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ port, host: LOOPBACK });
    socket.setTimeout(1_000, () => socket.destroy(new Error("timeout")));
    socket.once("error", reject);
    socket.once("connect", () => probe && socket.write(probe));
    socket.once("data", (data) => {
      resolve(data.toString("utf8"));
      socket.destroy();
    });
  });
}

/** What nats-server says of itself in the INFO line it greets a client with. */
interface NatsInfo {
  readonly jetstream?: boolean;
  /** The client URLs of every server of its cluster (itself included); none on a single server. */
  readonly connect_urls?: readonly string[];
}

async function natsInfo(port: number): Promise<NatsInfo | undefined> {
  const reply = await firstReply(port, undefined);
  return reply.startsWith("INFO ") ? (JSON.parse(reply.slice(5).split("\r\n")[0] ?? "{}") as NatsInfo) : undefined;
}

/** nats-server is ready once it greets with an INFO line that says JetStream is on. */
async function natsAnswers(port: number): Promise<boolean> {
  return (await natsInfo(port))?.jetstream === true;
}

/** A cluster node has its routes once it lists the client URLs of all `size` nodes. */
async function seesCluster(port: number, size: number): Promise<boolean> {
  return ((await natsInfo(port))?.connect_urls?.length ?? 0) >= size;
}

/** A listener accepts TCP connections (nats-server opens MQTT after JetStream). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ port, host: LOOPBACK });
    socket.once("error", () => resolve(false));
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
  });
}

/** redis-server is ready once it answers PING with PONG (not LOADING). */
async function redisAnswers(port: number): Promise<boolean> {
  return (await firstReply(port, "PING\r\n")).startsWith("+PONG");
}

function tail(file: string, lines = 5): string {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-lines).join(" | ");
  } catch {
    return "";
  }
}

async function waitReady(child: ChildProcess, kind: ServerKind, port: number, logFile: string, timeoutMs: number, alsoReady?: (port: number) => Promise<boolean>): Promise<void> {
  let exited: string | undefined;
  child.once("exit", (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
  });
  const answers = kind === "nats" ? natsAnswers : redisAnswers;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) break;
    if ((await answers(port).catch(() => false)) && (!alsoReady || (await alsoReady(port).catch(() => false)))) return;
    await sleep(50);
  }
  child.kill("SIGKILL");
  const why = exited ?? `did not answer within ${timeoutMs} ms`;
  throw new EcwatchError("SERVER_START_FAILED", `${kind === "nats" ? "nats-server" : "redis-server"} on port ${port} ${why}.`, {
    hint: `See its log ${logFile}${tail(logFile) ? `: ${tail(logFile)}` : ""}`,
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };
}

async function startServer(
  kind: ServerKind,
  options: LocalServerOptions,
  args: (port: number, dataDir: string, logFile: string) => string[],
  alsoReady?: (port: number) => Promise<boolean>,
): Promise<LocalServer> {
  const program = requireProgram(kind === "nats" ? "nats-server" : "redis-server");
  // Absolute: redis-server changes into --dir before it opens --logfile.
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const preferred = options.preferredPort ?? (kind === "nats" ? 4222 : 6379);
  const port = options.strictPort ? preferred : await preferredOrFreePort(preferred);
  const logFile = join(dataDir, `${kind}.log`);
  // A process group of its own: Ctrl-C in the terminal reaches `ecwatch up` only, which
  // then stops its services first and the servers last, instead of all at once.
  const child = spawn(program, args(port, dataDir, logFile), { stdio: "ignore", detached: true });
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once("spawn", () => resolve(undefined));
    child.once("error", resolve);
  });
  if (spawned) throw new EcwatchError("SERVER_START_FAILED", `Could not start ${program}: ${spawned.message}.`);
  await waitReady(child, kind, port, logFile, options.readyTimeoutMs ?? 15_000, alsoReady);
  const scheme = kind === "nats" ? "nats" : "redis";
  return { kind, url: `${scheme}://${LOOPBACK}:${port}`, port, pid: child.pid!, logFile, stop: stopper(child), kill: () => void child.kill("SIGKILL") };
}

/**
 * Starts nats-server with JetStream on loopback, storing under `dataDir`; with
 * `mqttPreferredPort`, also its MQTT listener (MQTT needs JetStream and a server name); with
 * `cluster`, as a node of a cluster.
 */
export async function startNats(options: NatsServerOptions): Promise<LocalServer> {
  const { mqttPreferredPort: mqttPreferred, cluster } = options;
  const mqttPort = mqttPreferred === undefined || options.strictPort ? mqttPreferred : await preferredOrFreePort(mqttPreferred);
  const server = await startServer(
    "nats",
    options,
    (port, dataDir, logFile) => [
      "-a", LOOPBACK,
      "-p", String(port),
      "-js",
      "-sd", join(dataDir, "jetstream"),
      // MQTT and clustering need a server name; a stable one keeps JetStream's data valid across restarts.
      "-n", options.serverName ?? "ecwatch",
      "-l", logFile,
      "-c", writeNatsConfig(dataDir, mqttPort, cluster),
    ],
    async (port) => (mqttPort === undefined || (await accepts(mqttPort))) && (!cluster || (await seesCluster(port, cluster.peerPorts.length + 1))),
  );
  return mqttPort === undefined ? server : { ...server, mqttUrl: `mqtt://${LOOPBACK}:${mqttPort}` };
}

/** Writes `<dataDir>/nats.conf` (what has no command-line flag) and returns its path. */
function writeNatsConfig(dataDir: string, mqttPort: number | undefined, cluster: NatsClusterMembership | undefined): string {
  const file = join(dataDir, "nats.conf");
  const text = natsConfig({
    mappings: partitionMappings(),
    ...(mqttPort !== undefined && { mqttListen: `${LOOPBACK}:${mqttPort}` }),
    ...(cluster && {
      cluster: { name: cluster.name, listen: `${LOOPBACK}:${cluster.port}`, routes: cluster.peerPorts.map((port) => `nats-route://${LOOPBACK}:${port}`) },
    }),
  });
  writeFileSync(file, text);
  return file;
}

/** Starts redis-server on loopback; it is only a cache, so it persists nothing. */
export function startRedis(options: LocalServerOptions): Promise<LocalServer> {
  return startServer("redis", options, (port, dataDir, logFile) => [
    "--port", String(port),
    "--bind", LOOPBACK,
    "--dir", dataDir,
    "--save", "",
    "--appendonly", "no",
    "--daemonize", "no",
    "--logfile", logFile,
  ]);
}

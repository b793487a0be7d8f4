import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { EcwatchError } from "../errors.js";
import { requireProgram } from "./binaries.js";
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
  /** Also open an MQTT listener for devices: on this port when free, another free port otherwise. */
  readonly mqttPreferredPort?: number;
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

/** nats-server is ready once it greets with an INFO line that says JetStream is on. */
async function natsAnswers(port: number): Promise<boolean> {
  const reply = await firstReply(port, undefined);
  if (!reply.startsWith("INFO ")) return false;
  const info = JSON.parse(reply.slice(5).split("\r\n")[0] ?? "{}") as { jetstream?: boolean };
  return info.jetstream === true;
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

async function waitReady(child: ChildProcess, kind: ServerKind, port: number, logFile: string, timeoutMs: number, alsoReady?: () => Promise<boolean>): Promise<void> {
  let exited: string | undefined;
  child.once("exit", (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
  });
  const answers = kind === "nats" ? natsAnswers : redisAnswers;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) break;
    if ((await answers(port).catch(() => false)) && (!alsoReady || (await alsoReady()))) return;
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
  alsoReady?: () => Promise<boolean>,
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
 * `mqttPreferredPort`, also its MQTT listener (MQTT needs JetStream and a server name).
 */
export async function startNats(options: NatsServerOptions): Promise<LocalServer> {
  const mqttPort = options.mqttPreferredPort === undefined ? undefined : await preferredOrFreePort(options.mqttPreferredPort);
  const server = await startServer(
    "nats",
    options,
    (port, dataDir, logFile) => [
      "-a", LOOPBACK,
      "-p", String(port),
      "-js",
      "-sd", join(dataDir, "jetstream"),
      // MQTT and clustering need a server name; a stable one keeps JetStream's data valid across restarts.
      "-n", "ecwatch",
      "-l", logFile,
      // MQTT has no command-line flag: a config file holds the listener, the flags the rest.
      ...(mqttPort === undefined ? [] : ["-c", mqttConfig(dataDir, mqttPort)]),
    ],
    mqttPort === undefined ? undefined : () => accepts(mqttPort),
  );
  return mqttPort === undefined ? server : { ...server, mqttUrl: `mqtt://${LOOPBACK}:${mqttPort}` };
}

function mqttConfig(dataDir: string, port: number): string {
  const file = join(dataDir, "mqtt.conf");
  writeFileSync(file, `mqtt {\n  listen: "${LOOPBACK}:${port}"\n}\n`);
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

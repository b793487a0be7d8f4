import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../../src/stack/ports.js";

/**
 * nats-server and redis-server with passwords, ACL users and TLS, for the tests of issue 10.
 * The stack's own servers (src/stack/local-server.ts) never use them: they listen on loopback only.
 */

export interface Certificates {
  /** The test CA, to give the clients. */
  readonly ca: string;
  /** The server's certificate (for 127.0.0.1 and localhost) and key, signed by the CA. */
  readonly cert: string;
  readonly key: string;
}

/** Makes a CA and a server certificate for 127.0.0.1 and localhost with openssl, in `dir`. */
export function makeCertificates(dir: string): Certificates {
  mkdirSync(dir, { recursive: true });
  const at = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync("openssl", args, { stdio: "pipe" });
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", at("ca.key"), "-out", at("ca.pem"), "-days", "2", "-subj", "/CN=ecwatch test CA");
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", at("server.key"), "-out", at("server.csr"), "-subj", "/CN=localhost");
  writeFileSync(at("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl("x509", "-req", "-in", at("server.csr"), "-CA", at("ca.pem"), "-CAkey", at("ca.key"), "-CAcreateserial", "-out", at("server.pem"), "-days", "2", "-extfile", at("san.ext"));
  return { ca: at("ca.pem"), cert: at("server.pem"), key: at("server.key") };
}

export interface TestServer {
  readonly port: number;
  stop(): Promise<void>;
}

/** The first bytes a server sends on a new connection, after `probe` if given; TLS when `tls`. */
function firstReply(port: number, probe: string | undefined, tls: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    // The readiness probe does not check the certificate: that is what the tests do, with ecwatch's own clients.
    const socket = tls ? tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false }) : tcpConnect({ port, host: "127.0.0.1" });
    socket.setTimeout(1_000, () => socket.destroy(new Error("timeout")));
    socket.once("error", reject);
    socket.once(tls ? "secureConnect" : "connect", () => probe && socket.write(probe));
    socket.once("data", (data) => {
      resolve(data.toString("utf8"));
      socket.destroy();
    });
  });
}

/** Starts `program`, ready once `ready` says so; fails with its output if it exits first or takes 15 s. */
async function startServer(program: string, args: string[], port: number, ready: () => Promise<boolean>): Promise<TestServer> {
  const child: ChildProcess = spawn(program, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2_000)));
  child.stderr!.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2_000)));
  let exited = false;
  const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void gone.then(() => (exited = true));
  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await gone;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 15_000;
  while (!(await ready().catch(() => false))) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`${program} ${exited ? "exited" : "did not answer within 15 s"}: ${output}`);
    }
    await sleep(50);
  }
  return { port, stop };
}

export interface NatsServerOptions {
  /** nats-server's --user/--pass. */
  readonly user?: string;
  readonly pass?: string;
  /** nats-server's --auth token. */
  readonly token?: string;
  /** A configuration file (e.g. `authorization { users = [{ nkey: … }] }`). */
  readonly config?: string;
  readonly tls?: Certificates;
}

/** A nats-server with JetStream on a free loopback port, storing in `dir`. */
export async function startSecureNats(dir: string, options: NatsServerOptions): Promise<TestServer> {
  const port = await freePort();
  const args = ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", join(dir, "jetstream"), "-l", join(dir, "nats.log")];
  if (options.user !== undefined) args.push("--user", options.user, "--pass", options.pass ?? "");
  if (options.token !== undefined) args.push("--auth", options.token);
  if (options.config !== undefined) args.push("-c", options.config);
  if (options.tls) args.push("--tls", "--tlscert", options.tls.cert, "--tlskey", options.tls.key);
  mkdirSync(dir, { recursive: true });
  // nats-server greets every client with INFO in the clear, TLS or not, before any authentication.
  return startServer("nats-server", args, port, async () => (await firstReply(port, undefined, false)).startsWith("INFO "));
}

export interface RedisServerOptions {
  /** requirepass: the password of the default user. */
  readonly password?: string;
  /** ACL users with all rights: name → password. */
  readonly users?: Readonly<Record<string, string>>;
  /** TLS only: the plain port is closed (--port 0). */
  readonly tls?: Certificates;
}

/** A redis-server on a free loopback port, storing nothing, in `dir`. */
export async function startSecureRedis(dir: string, options: RedisServerOptions): Promise<TestServer> {
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  const args = ["--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"];
  if (options.tls) {
    args.push("--port", "0", "--tls-port", String(port), "--tls-cert-file", options.tls.cert, "--tls-key-file", options.tls.key, "--tls-ca-cert-file", options.tls.ca, "--tls-auth-clients", "no");
  } else args.push("--port", String(port));
  if (options.password !== undefined) args.push("--requirepass", options.password);
  for (const [user, password] of Object.entries(options.users ?? {})) args.push("--user", user, "on", `>${password}`, "~*", "&*", "+@all");
  // Up once it answers PING, be it with PONG or with a demand for a password.
  return startServer("redis-server", args, port, async () => /^(\+PONG|-NOAUTH)/.test(await firstReply(port, "PING\r\n", options.tls !== undefined)));
}

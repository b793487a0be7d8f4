import { execFile } from "node:child_process";
import { connect, type Socket } from "node:net";
import { EcwatchError } from "../errors.js";

/**
 * A small client of the adb server's host protocol (AOSP `packages/modules/adb/SERVICES.TXT`):
 * each request is `%04x<service>` on a fresh connection, answered `OKAY` or `FAIL%04x<message>`.
 * ecwatch needs five services — device list, transport, `shell:`, `reverse:forward:` and
 * `reverse:killforward:` — so it speaks them itself rather than pulling in a client library
 * (@devicefarmer/adbkit, the kept one, has no way to remove a reverse and brings bluebird,
 * node-forge and a second commander).
 */

/** The port adb uses when neither `-P` nor `ANDROID_ADB_SERVER_PORT` says otherwise. */
export const DEFAULT_ADB_SERVER_PORT = 5037;

export interface AdbDevice {
  readonly serial: string;
  /** `device` when usable; `offline`, `unauthorized`, `connecting`, … otherwise. */
  readonly state: string;
}

/** The adb server or the device refused a request (`FAIL`), or the connection broke. */
export class AdbError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "AdbError";
  }
}

const REQUEST_TIMEOUT_MS = 10_000;

/** The adb server's port as adb itself finds it: an explicit one, else `ANDROID_ADB_SERVER_PORT`, else 5037. */
export function adbServerPort(explicit: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  if (explicit !== undefined) return explicit;
  const fromEnv = Number(env.ANDROID_ADB_SERVER_PORT);
  return Number.isInteger(fromEnv) && fromEnv > 0 && fromEnv < 65_536 ? fromEnv : DEFAULT_ADB_SERVER_PORT;
}

export class AdbClient {
  constructor(
    readonly port: number,
    private readonly host = "127.0.0.1",
  ) {}

  /**
   * Makes sure an adb server answers, starting one (`adb -P <port> start-server`) the way the adb
   * command does when none runs. A missing adb binary is an error that says how to install it.
   */
  async ensureServer(): Promise<void> {
    try {
      await this.version();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ECONNREFUSED") throw err;
    }
    await new Promise<void>((resolve, reject) => {
      execFile("adb", ["-P", String(this.port), "start-server"], { timeout: 30_000 }, (err, _stdout, stderr) => {
        if (!err) resolve();
        else if ((err as NodeJS.ErrnoException).code === "ENOENT") {
          reject(new EcwatchError("ADB_MISSING", "adb is not installed: install it with `sudo apt-get install adb` (or Android SDK Platform-Tools) and try again."));
        } else reject(new EcwatchError("ADB_SERVER", `Could not start the adb server on port ${this.port}: ${stderr.trim() || err.message}.`, { cause: err }));
      });
    });
    await this.version();
  }

  /** The server's protocol version. */
  async version(): Promise<number> {
    return this.withConnection(async (conn) => {
      await conn.request("host:version");
      return Number.parseInt(await conn.readString(), 16);
    });
  }

  async devices(): Promise<AdbDevice[]> {
    return this.withConnection(async (conn) => {
      await conn.request("host:devices");
      return parseDeviceList(await conn.readString());
    });
  }

  /** Runs a command line in the device's shell and returns its output. */
  async shell(serial: string, commandLine: string): Promise<string> {
    return this.withConnection(async (conn) => {
      await conn.request(`host:transport:${serial}`);
      await conn.request(`shell:${commandLine}`);
      return (await conn.readToEnd()).toString("utf8");
    });
  }

  /** `adb reverse <remote> <local>`: connections to `remote` on the device reach `local` on this host. */
  async reverse(serial: string, remote: string, local: string): Promise<void> {
    await this.deviceRequest(serial, `reverse:forward:${remote};${local}`);
  }

  /** `adb reverse --remove <remote>`. */
  async removeReverse(serial: string, remote: string): Promise<void> {
    await this.deviceRequest(serial, `reverse:killforward:${remote}`);
  }

  /** A device service that answers with a status of its own after the server's `OKAY` for the open stream. */
  private async deviceRequest(serial: string, service: string): Promise<void> {
    await this.withConnection(async (conn) => {
      await conn.request(`host:transport:${serial}`);
      await conn.request(service);
      await conn.status();
    });
  }

  private async withConnection<T>(use: (conn: AdbConnection) => Promise<T>): Promise<T> {
    const conn = await AdbConnection.open(this.host, this.port);
    try {
      return await use(conn);
    } finally {
      conn.close();
    }
  }
}

/** `host:devices` lines: `<serial>\t<state>`. */
export function parseDeviceList(text: string): AdbDevice[] {
  return text
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 2 && fields[0] !== "")
    .map(([serial, state]) => ({ serial: serial!, state: state! }));
}

/** One connection to the adb server, read as a byte stream. */
class AdbConnection {
  private buffered: Buffer = Buffer.alloc(0);
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy(new AdbError(`the adb server did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
    socket.on("data", (chunk: Buffer) => {
      this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
      this.wake?.();
    });
    socket.on("end", () => {
      this.ended = true;
      this.wake?.();
    });
    socket.on("error", (err) => {
      this.failure = err;
      this.wake?.();
    });
  }

  static open(host: string, port: number): Promise<AdbConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new AdbConnection(socket));
      });
    });
  }

  /** Sends a service request and reads its status. */
  async request(service: string): Promise<void> {
    const body = Buffer.from(service, "utf8");
    this.socket.write(Buffer.concat([Buffer.from(body.length.toString(16).padStart(4, "0"), "ascii"), body]));
    await this.status();
  }

  /** `OKAY`, or `FAIL` with a message that becomes an AdbError. */
  async status(): Promise<void> {
    const word = (await this.read(4)).toString("ascii");
    if (word === "OKAY") return;
    if (word === "FAIL") throw new AdbError(await this.readString());
    throw new AdbError(`unexpected answer ${JSON.stringify(word)} from the adb server`);
  }

  /** A `%04x`-prefixed string. */
  async readString(): Promise<string> {
    const length = Number.parseInt((await this.read(4)).toString("ascii"), 16);
    if (!Number.isInteger(length)) throw new AdbError("malformed length from the adb server");
    return (await this.read(length)).toString("utf8");
  }

  async readToEnd(): Promise<Buffer> {
    while (!this.ended) await this.more();
    return this.take(this.buffered.length);
  }

  close(): void {
    this.socket.destroy();
  }

  private async read(n: number): Promise<Buffer> {
    while (this.buffered.length < n) {
      if (this.ended) throw new AdbError("the adb server closed the connection");
      await this.more();
    }
    return this.take(n);
  }

  private take(n: number): Buffer {
    const head = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return head;
  }

  private async more(): Promise<void> {
    if (!this.failure) {
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
    const failure = this.failure as Error | undefined;
    if (failure) throw new AdbError(failure.message, { cause: failure });
  }
}

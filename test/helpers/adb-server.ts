import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../src/stack/ports.js";
import { eventually } from "./stack.js";

export interface AdbRun {
  readonly stdout: string;
  readonly stderr: string;
  /** The exit code; null when adb was killed (after 15 s). */
  readonly code: number | null;
}

export interface AdbServer {
  readonly port: number;
  /** Its temp dir: HOME (so its adbkey is not the user's) and TMPDIR (where `adb.<uid>.log` goes). */
  readonly dir: string;
  /** Runs `adb -P <port> ...args` against this server; never rejects on a failing command. */
  run(args: string[]): Promise<AdbRun>;
  /**
   * `adb connect 127.0.0.1:<port>`, then waits until `adb devices` lists it as `device`. A device
   * listed `offline` (gone, adb waiting to retry) is disconnected first, or adb would only
   * answer "already connected" and retry ~10 s later.
   */
  connect(devicePort: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A private real adb server on a free port, with its own HOME and TMPDIR and without the
 * emulator scan of ports 5555–5585 (`ADB_EMU=0`), so it cannot meet the user's devices or server.
 */
export async function startAdbServer(): Promise<AdbServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "ecwatch-adb-"));
  const env: NodeJS.ProcessEnv = { ...process.env, ADB_EMU: "0", HOME: dir, ANDROID_SDK_HOME: dir, ANDROID_USER_HOME: dir, TMPDIR: dir };
  // Nothing from the user's environment may pick another server or device, or add keys.
  for (const name of ["ANDROID_SERIAL", "ADB_VENDOR_KEYS", "ADB_SERVER_SOCKET", "ANDROID_ADB_SERVER_ADDRESS", "ADB_TRACE"]) delete env[name];

  const run = (args: string[]): Promise<AdbRun> =>
    new Promise((resolve) => {
      execFile("adb", ["-P", String(port), ...args], { env, timeout: 15_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : null;
        resolve({ stdout, stderr, code });
      });
    });

  const started = await run(["start-server"]);
  if (started.code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`adb start-server on port ${port} failed (${started.code}): ${started.stderr.trim()}`);
  }
  return {
    port,
    dir,
    run,
    connect: async (devicePort) => {
      const serial = `127.0.0.1:${devicePort}`;
      const listed = (await run(["devices"])).stdout;
      if (listed.includes(`${serial}\t`) && !listed.includes(`${serial}\tdevice`)) await run(["disconnect", serial]);
      const connected = await run(["connect", serial]);
      if (!/connected to/.test(connected.stdout)) throw new Error(`adb connect ${serial} failed: ${connected.stdout.trim()} ${connected.stderr.trim()}`);
      await eventually(async () => ((await run(["devices"])).stdout.includes(`${serial}\tdevice`) ? true : undefined), 10_000, `${serial} to be a device`);
    },
    stop: async () => {
      await run(["kill-server"]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/stack/ports.js";
import { type FakeAdbd, type FakeStream, startFakeAdbd } from "../helpers/adbd.js";
import { type AdbServer, startAdbServer } from "../helpers/adb-server.js";
import { eventually } from "../helpers/stack.js";

/** 600 KB of numbered lines: more than two chunks of the 256 KiB the stand-in negotiates. */
const BIG_OUTPUT = Array.from({ length: 60_000 }, (_, i) => `${String(i).padStart(9, "0")}\n`).join("");

let adb: AdbServer;
let watch: FakeAdbd;

beforeAll(async () => {
  adb = await startAdbServer();
  watch = await startFakeAdbd({ onShell: (argv) => (argv[0] === "big-output" ? BIG_OUTPUT : undefined) });
  await adb.connect(watch.port);
});

afterAll(async () => {
  await watch?.stop();
  await adb?.stop();
});

const shell = (...args: string[]) => adb.run(["-s", watch.serial, "shell", ...args]);
const reverse = (...args: string[]) => adb.run(["-s", watch.serial, "reverse", ...args]);

/** A host-side TCP server that echoes what it gets, on a free loopback port. */
async function echoServer(): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.pipe(socket);
  });
  const port = await freePort();
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  return { server, port, sockets };
}

/** Reads from `stream` until `bytes` bytes came. */
async function readBytes(stream: FakeStream, bytes: number): Promise<string> {
  let received = "";
  for await (const chunk of stream.readable) {
    received += (chunk as Buffer).toString();
    if (received.length >= bytes) break;
  }
  return received;
}

describe("the adbd stand-in under the real adb server", () => {
  it("is listed by `adb devices -l` as a device with its product, model and device", async () => {
    const { stdout } = await adb.run(["devices", "-l"]);
    // adb replaces what is not alphanumeric in banner values with "_".
    const line = stdout.split("\n").find((l) => l.startsWith(`${watch.serial} `));
    expect(line).toMatch(/^127\.0\.0\.1:\d+ +device product:ecwatch_watch model:Wear_OS_stand_in device:wear transport_id:\d+$/);
  });

  it("gets an `adb shell am broadcast` command line with the user's quoting intact", async () => {
    const before = watch.shellCommands.length;
    const { stdout, code } = await shell("am", "broadcast", "-a", "x.Y", "--es", "data", `'{"a": 1}'`);

    expect(watch.shellCommands.slice(before).map((c) => c.argv)).toEqual([["am", "broadcast", "-a", "x.Y", "--es", "data", '{"a": 1}']]);
    expect(watch.shellCommands.at(-1)?.commandLine).toBe(`am broadcast -a x.Y --es data '{"a": 1}'`);
    expect(stdout).toBe("Broadcasting: Intent { act=x.Y flg=0x400000 (has extras) }\nBroadcast completed: result=0\n");
    expect(code).toBe(0);
  });

  it("answers echo, getprop and unknown commands as a device shell does", async () => {
    expect((await shell("echo", "hello", "'two  spaces'")).stdout).toBe("hello two  spaces\n");
    expect((await shell("getprop", "ro.product.model")).stdout).toBe("Wear OS stand-in\n");
    expect((await shell("frobnicate", "--now")).stdout).toBe("/system/bin/sh: frobnicate: inaccessible or not found\n");
  });

  it("delivers a shell output larger than one packet complete and in order", async () => {
    const { stdout } = await shell("big-output");
    expect(stdout.length).toBe(BIG_OUTPUT.length);
    expect(stdout === BIG_OUTPUT).toBe(true);
  });

  it("refuses a service it does not offer", async () => {
    const { stdout, code } = await adb.run(["-s", watch.serial, "ls", "/"]);
    expect(code).toBe(1);
    expect(stdout).toBe("adb: error: connect failed: closed\n");
  });

  it("carries a connection the watch opens through `adb reverse` both ways, until it is removed", async () => {
    const host = await echoServer();
    try {
      expect(await reverse("tcp:8123", `tcp:${host.port}`)).toEqual({ stdout: "", stderr: "", code: 0 });
      expect(watch.reverses).toEqual(new Map([["tcp:8123", `tcp:${host.port}`]]));
      expect((await reverse("--list")).stdout).toMatch(new RegExp(`^host-\\d+ tcp:8123 tcp:${host.port}\\n\\n$`));

      const stream = await watch.openReverse(8123);
      const payload = "0123456789".repeat(40_000); // 400 KB: flow control and chunking both ways
      const echoed = readBytes(stream, payload.length);
      await stream.write(payload);
      expect((await echoed) === payload).toBe(true);

      // The host side hanging up closes the stream on the watch.
      host.sockets[0]!.end();
      await stream.closed;

      expect(await reverse("--remove", "tcp:8123")).toEqual({ stdout: "", stderr: "", code: 0 });
      expect((await reverse("--list")).stdout).toBe("\n");
      await expect(watch.openReverse(8123)).rejects.toThrow("connection refused: no adb reverse for tcp:8123");
    } finally {
      host.server.close();
    }
  });

  it("reports the port of a `tcp:0` reverse, refuses to rebind with --no-rebind and to remove what is not there", async () => {
    const { stdout } = await reverse("tcp:0", "tcp:9");
    expect(stdout).toBe("40000\n");
    expect(watch.reverses.get("tcp:40000")).toBe("tcp:9");
    expect(await reverse("--no-rebind", "tcp:40000", "tcp:10")).toEqual({ stdout: "", stderr: "adb: error: cannot rebind existing socket\n", code: 1 });
    expect(await reverse("--remove", "tcp:1")).toEqual({ stdout: "", stderr: "adb: error: listener 'tcp:1' not found\n", code: 1 });
    expect(await reverse("--remove-all")).toEqual({ stdout: "", stderr: "", code: 0 });
    expect(watch.reverses.size).toBe(0);
  });

  it("has the watch's connection refused when nothing listens on the host port", async () => {
    const closedPort = await freePort();
    await reverse("tcp:8124", `tcp:${closedPort}`);
    await expect(watch.openReverse(8124)).rejects.toThrow(`the host refused tcp:${closedPort}`);
    await reverse("--remove-all");
  });

  it("goes offline when the watch goes away and is a device again after it comes back", async () => {
    await reverse("tcp:8125", "tcp:9");
    await watch.stop();
    expect(watch.reverses.size).toBe(0);
    await eventually(async () => ((await adb.run(["devices"])).stdout.includes(`${watch.serial}\tdevice`) ? undefined : true), 5_000, "the watch to leave");

    watch = await startFakeAdbd({ port: watch.port });
    await adb.connect(watch.port);
    expect((await shell("echo", "back")).stdout).toBe("back\n");
    // Reverses do not survive the device going away.
    expect((await reverse("--list")).stdout).toBe("\n");
  });
});

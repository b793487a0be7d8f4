import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/stack/ports.js";
import { type AdbServer, startAdbServer } from "../helpers/adb-server.js";
import { type FakeAdbd, startFakeAdbd } from "../helpers/adbd.js";
import { CliProcess, runCli } from "../helpers/cli.js";
import { eventually, usePipeline } from "../helpers/stack.js";

/**
 * `ecwatch wear-emu --watch adb:<serial>` as a user runs it: the real pipeline (nats-server,
 * redis-server, aggregator, API), the real adb server, and a device stand-in added with
 * `adb connect`; the stand-in records the exact shell command lines it receives.
 */

const pipeline = usePipeline();
let adb: AdbServer;

beforeAll(async () => {
  adb = await startAdbServer();
});
afterAll(async () => {
  await adb?.stop();
});

const T0 = Math.floor(Date.now() / 1000) * 1000;

/** A community-level reading: net = 5,000 − conW. */
async function post(communityId: string, netW: number, second: number): Promise<void> {
  const res = await fetch(`${pipeline.api.url}/communities/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ communityId, genW: 5_000, conW: 5_000 - netW, measuredAt: new Date(T0 + second * 1000).toISOString() }),
  });
  expect(res.status).toBe(200);
  await eventually(async () => {
    const latest = (await (await fetch(`${pipeline.api.url}/communities/${communityId}`)).json()) as { netW?: number };
    return latest.netW === netW ? true : undefined;
  });
}

/** The command line the relay must send for a value measured at T0 + `second`. */
function broadcast(netW: number, second: number, urgent: boolean, seq: number): string {
  return (
    "am broadcast -a com.example.energy.DATA_ITEM -n com.example.energy/.presentation.WearEmuReceiver --es path /net_energy " +
    `--es data '{"netEnergy":${netW},"measuredAt":${T0 + second * 1000}}' --ez urgent ${urgent} --el seq ${seq}`
  );
}

const commandLines = (device: FakeAdbd): string[] => device.shellCommands.map((c) => c.commandLine);

async function broadcasts(device: FakeAdbd, count: number): Promise<string[]> {
  return eventually(async () => (device.shellCommands.length >= count ? commandLines(device) : undefined), 15_000, `${count} broadcasts`);
}

async function quietFor(device: FakeAdbd, ms: number): Promise<void> {
  const before = device.shellCommands.length;
  await new Promise((resolve) => setTimeout(resolve, ms));
  expect(commandLines(device).slice(before)).toEqual([]);
}

function wearEmu(device: FakeAdbd, communityId: string, reversePort: number, extra: string[]): CliProcess {
  const args = ["wear-emu", "--watch", `adb:${device.serial}`, "--adb-port", String(adb.port), "--reverse-port", String(reversePort), "--api", pipeline.api.url];
  return new CliProcess([...args, "--community", communityId, "--json", ...extra]);
}

async function stop(cli: CliProcess): Promise<void> {
  cli.kill("SIGINT");
  const run = await cli.exited;
  expect(run.stderr).not.toMatch(/error/i);
  expect(run.code).toBe(0);
}

describe("ecwatch wear-emu --watch adb", () => {
  it("with --always-on, broadcasts every displayed change; survives the device going away and coming back", async () => {
    let device = await startFakeAdbd();
    await adb.connect(device.port);
    const reversePort = await freePort();
    await post("adb1", 600, 0);
    const cli = wearEmu(device, "adb1", reversePort, ["--always-on"]);
    try {
      await broadcasts(device, 1);
      expect(device.reverses.get(`tcp:${reversePort}`)).toBe(`tcp:${reversePort}`);
      await post("adb1", 1_200, 1);
      await broadcasts(device, 2);
      await post("adb1", -300, 2);
      await broadcasts(device, 3);
      await post("adb1", -305, 3); // the same displayed value (10 W steps): nothing to send
      await quietFor(device, 1_500);
      expect(commandLines(device)).toEqual([broadcast(600, 0, true, 1), broadcast(1_200, 1, true, 2), broadcast(-300, 2, true, 3)]);

      // The device goes away: updates wait; when it is back, the newest goes out and the reverse is set again.
      await device.stop();
      await eventually(async () => ((await adb.run(["devices"])).stdout.includes(`${device.serial}\tdevice`) ? undefined : true));
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await post("adb1", 2_000, 4);
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // past --coalesce: each update is put at once
      await post("adb1", 2_500, 5);
      device = await startFakeAdbd({ port: device.port });
      await adb.connect(device.port);
      const [resent] = await broadcasts(device, 1);
      expect(resent).toBe(broadcast(2_500, 5, true, 4));
      expect(device.reverses.get(`tcp:${reversePort}`)).toBe(`tcp:${reversePort}`);
      await post("adb1", 3_000, 6);
      expect(await broadcasts(device, 2)).toEqual([broadcast(2_500, 5, true, 4), broadcast(3_000, 6, true, 5)]);
    } finally {
      await stop(cli);
    }
    expect(device.reverses.has(`tcp:${reversePort}`)).toBe(false); // removed on exit
    await device.stop();
  });

  it("with the glance policy, the watch's open/close and request messages come back through adb reverse", async () => {
    const device = await startFakeAdbd();
    await adb.connect(device.port);
    const reversePort = await freePort();
    await post("adb2", 800, 0);
    const cli = wearEmu(device, "adb2", reversePort, ["--batch-delay", "1s", "--idle-interval", "1h"]);
    try {
      // Hidden: the first value is a non-urgent item, delivered when its batch falls due.
      expect(await broadcasts(device, 1)).toEqual([broadcast(800, 0, false, 1)]);
      await post("adb2", 900, 1);
      await quietFor(device, 2_000); // hidden: no wake-up for a change nobody sees

      const watch = await device.openReverse(reversePort);
      await watch.write('{"path":"/app_opened"}\n');
      await broadcasts(device, 2);
      await post("adb2", 1_500, 2);
      await broadcasts(device, 3);
      await watch.write('{"path":"/app_closed"}\n');
      await new Promise((resolve) => setTimeout(resolve, 500));
      await post("adb2", 1_700, 3);
      await quietFor(device, 2_000);
      await watch.write("this is not JSON\n"); // ignored, and the connection stays usable
      await watch.write('{"path":"/request_latest_energy"}\n');
      await broadcasts(device, 4);
      await post("adb2", -400, 4); // a sign flip while hidden: a non-urgent item
      await broadcasts(device, 5);
      expect(commandLines(device)).toEqual([
        broadcast(800, 0, false, 1),
        broadcast(900, 1, true, 2),
        broadcast(1_500, 2, true, 3),
        broadcast(1_700, 3, true, 4),
        broadcast(-400, 4, false, 5),
      ]);
      watch.close();
    } finally {
      await stop(cli);
    }
    await device.stop();
  });

  it("without an adb binary, says in one sentence how to install it", async () => {
    const run = await runCli(["wear-emu", "--watch", "adb", "--adb-port", String(await freePort()), "--api", pipeline.api.url], { env: { PATH: "/nonexistent" } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/adb is not installed: install it with `sudo apt-get install adb`/);
  });
});

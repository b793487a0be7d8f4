import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Aggregate } from "../../src/domain/aggregate.js";
import { CliProcess, runCli } from "../helpers/cli.js";
import { SseReader } from "../helpers/sse.js";
import { eventually } from "../helpers/stack.js";

/**
 * Meter devices over MQTT, as users run it: `ecwatch up --mqtt` starts nats-server with its MQTT
 * listener; a plain MQTT client (a device) and `ecwatch sim --transport mqtt` publish QoS 1 on
 * `ec/<community>/meter/<meter>`, and the readings flow through the same aggregator to the API.
 */

let cwd: string;
let up: CliProcess;
let ready: { api: string; mqtt: string };

beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), "ecwatch-mqtt-"));
  up = new CliProcess(["up", "--mqtt", "--communities", "0", "--port", "0", "--json"], { cwd });
  ready = JSON.parse((await up.waitForStdout(/^\{"ready":true.*\}$/m))[0]) as typeof ready;
});

afterAll(async () => {
  up?.kill("SIGINT");
  expect((await up?.exited)?.code).toBe(0);
  rmSync(cwd, { recursive: true, force: true });
});

const latest = async (communityId: string): Promise<Aggregate | undefined> => {
  const res = await fetch(`${ready.api}/communities/${communityId}`);
  return res.ok ? ((await res.json()) as Aggregate) : undefined;
};

describe("MQTT devices", () => {
  it("up --mqtt opens the listener and tells the other commands where it is", () => {
    expect(ready.mqtt).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    const state = JSON.parse(readFileSync(join(cwd, ".ecwatch", "state.json"), "utf8")) as { mqtt?: string };
    expect(state.mqtt).toBe(ready.mqtt);
  });

  it("a device's QoS 1 readings reach the aggregate and the SSE stream", async () => {
    const device = await mqtt.connectAsync(ready.mqtt, { clientId: "shelly-m1", clean: true });
    const reading = (genW: number, conW: number, seq: number) =>
      JSON.stringify({ communityId: "device1", meterId: "m1", genW, conW, measuredAt: new Date(Date.now() - 1_000 + seq).toISOString(), seq });
    try {
      await device.publishAsync("ec/device1/meter/m1", reading(3_000, 1_000, 1), { qos: 1 });
      const first = await eventually(async () => ((await latest("device1"))?.netW === 2_000 ? true : undefined), 10_000, "the first reading");
      expect(first).toBe(true);
      const sse = await SseReader.open(`${ready.api}/communities/device1/stream`);
      try {
        await sse.waitFor((event) => (JSON.parse(event.data) as Aggregate).netW === 2_000);
        await device.publishAsync("ec/device1/meter/m1", reading(500, 1_700, 2), { qos: 1 });
        const update = await sse.waitFor((event) => (JSON.parse(event.data) as Aggregate).netW === -1_200, 10_000);
        expect(JSON.parse(update.data)).toMatchObject({ communityId: "device1", genW: 500, conW: 1_700, meters: 1 });
      } finally {
        sse.stop();
      }
      // A malformed message from a device is a dead letter, not a crash.
      await device.publishAsync("ec/device1/meter/m1", "not json", { qos: 1 });
      await device.publishAsync("ec/device1/meter/m1", reading(800, 100, 3), { qos: 1 });
      await eventually(async () => ((await latest("device1"))?.netW === 700 ? true : undefined), 10_000, "the reading after a bad one");
    } finally {
      await device.endAsync();
    }
  });

  it("ecwatch sim --transport mqtt: the served totals equal the simulator's ground truth", async () => {
    const sim = await runCli(["sim", "--transport", "mqtt", "--communities", "2", "--meters", "5", "--interval", "200ms", "--duration", "1s", "--json"], { cwd });
    expect(sim.stderr).toBe("");
    expect(sim.code).toBe(0);
    const truth = JSON.parse(sim.stdout) as { published: number; errors: number; communities: Record<string, { genW: number; conW: number }> };
    expect(truth.errors).toBe(0);
    expect(truth.published).toBeGreaterThanOrEqual(2 * 5 * 4);
    for (const [id, expected] of Object.entries(truth.communities)) {
      await eventually(async () => {
        const aggregate = await latest(id);
        return aggregate?.genW === expected.genW && aggregate.conW === expected.conW ? true : undefined;
      }, 10_000, `${id} to match the simulator`);
    }
  });

  it("a topic under ec/ that is no reading topic is acknowledged and kept: doctor counts it among the dead letters", async () => {
    const port = new URL(ready.mqtt).port;
    const pub = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile("/usr/bin/mosquitto_pub", ["-h", "127.0.0.1", "-p", port, "-q", "1", "-t", "ec/device1/meter/m1/extra", "-m", "{}"], { timeout: 10_000 }, (err, _stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stderr }),
      );
    });
    expect(pub).toEqual({ code: 0, stderr: "" });
    // Stored as a dead letter (the aggregator's metrics, on up's /metrics, count it) …
    await eventually(async () => {
      const metrics = await (await fetch(`${ready.api}/metrics`)).text();
      return metrics.includes('ecwatch_aggregator_dead_letters_total{kind="subject"} 1') ? true : undefined;
    }, 15_000, "the dead letter to be stored");
    // … and doctor counts it (one run: a spawned doctor takes seconds on a loaded machine).
    const doctor = await runCli(["doctor", "--json"], { cwd });
    const dlq = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string; counts?: Record<string, number> }> }).checks.find(({ name }) => name === "stream EC_DLQ");
    expect(dlq).toMatchObject({ status: "warn", counts: { subject: 1 } });
  });

});

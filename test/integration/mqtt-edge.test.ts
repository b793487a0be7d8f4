import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AggregationService, startAggregation } from "../../src/app/services.js";
import { startLocalRedis } from "../../src/app/stack.js";
import { connectNats } from "../../src/nats/connect.js";
import { startNats, type LocalServer } from "../../src/stack/local-server.js";
import { freePort } from "../../src/stack/ports.js";
import { NOT_A_READING_SUBJECT } from "../../src/wire/decode-reading.js";
import { DLQ_STREAM, LATEST_BUCKET, STREAM, deadLetterSubject, latestKey } from "../../src/wire/names.js";
import { runCli } from "../helpers/cli.js";
import { Scrape, parseSamples } from "../helpers/prometheus.js";
import { eventually } from "../helpers/stack.js";

/**
 * The MQTT edge (issue 18): nats-server's MQTT listener acknowledges a QoS 1 publish itself
 * (PUBACK), so everything it accepts under `ec/` must be stored — a reading is aggregated,
 * anything else is a dead letter with its reason and topic, counted alike by `doctor` and the
 * metrics. Devices are mqtt.js and `mosquitto_pub`; nats-server 2.9 with ecwatch's config.
 */

const MOSQUITTO_PUB = "/usr/bin/mosquitto_pub";

let dir: string;
let nats: LocalServer;
let redis: LocalServer;
let aggregation: AggregationService;
let nc: NatsConnection;
let jsm: JetStreamManager;
let mqttPort: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ecwatch-mqtt-edge-"));
  nats = await startNats({ dataDir: join(dir, "nats"), preferredPort: await freePort(), mqttPreferredPort: await freePort() });
  mqttPort = Number(new URL(nats.mqttUrl!).port);
  redis = await startLocalRedis(dir);
  aggregation = await startAggregation(nats.url, redis.url);
  nc = await connectNats(nats.url, "test-mqtt-edge");
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  await nc?.close();
  await aggregation?.stop();
  await Promise.all([nats?.stop(), redis?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

interface DeviceRun {
  readonly code: number | null;
  readonly stderr: string;
}

/** `mosquitto_pub` as a shell user runs it: resolves its exit code (0 once a QoS 1 publish got its PUBACK) and what it printed. */
function mosquittoPub(topic: string, message: string, qos: 0 | 1 | 2 = 1): Promise<DeviceRun> {
  return new Promise((resolve) => {
    execFile(MOSQUITTO_PUB, ["-h", "127.0.0.1", "-p", String(mqttPort), "-q", String(qos), "-t", topic, "-m", message], { timeout: 10_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stderr });
    });
  });
}

/** What one mqtt.js publish got: the server's PUBACK, or its connection closed without one (within 3 s). */
async function mqttJsPublish(topic: string, message: string, qos: 0 | 1): Promise<"acknowledged" | "sent" | "connection closed"> {
  const device = await mqtt.connectAsync(nats.mqttUrl!, { reconnectPeriod: 0, clean: true });
  const closed = new Promise<"connection closed">((resolve) => device.once("close", () => resolve("connection closed")));
  device.on("error", () => undefined);
  try {
    const sent = device.publishAsync(topic, message, { qos }).then(() => (qos === 1 ? ("acknowledged" as const) : ("sent" as const)));
    const outcome = await Promise.race([sent, closed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer to ${topic} in 3 s`)), 3_000))]);
    // A QoS 0 publish resolves as soon as it is written: wait to see whether the server hangs up.
    if (qos === 0) return await Promise.race([closed, new Promise<typeof outcome>((resolve) => setTimeout(() => resolve(outcome), 500))]);
    return outcome;
  } finally {
    device.end(true);
  }
}

/** The dead letters whose subject was not a reading subject, as stored. */
async function subjectDeadLetters(): Promise<Array<{ reason: string; subject: string; data: string }>> {
  const info = await jsm.streams.info(DLQ_STREAM, { subjects_filter: deadLetterSubject("subject") });
  const letters = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const msg = await jsm.streams.getMessage(DLQ_STREAM, { seq }).catch(() => null);
    if (msg?.subject === deadLetterSubject("subject")) letters.push(msg.json<{ reason: string; subject: string; data: string }>());
  }
  return letters;
}

const reading = (communityId: string, genW: number, conW: number): string =>
  JSON.stringify({ communityId, meterId: "m1", genW, conW, measuredAt: new Date().toISOString(), seq: Date.now() });

async function latestNet(communityId: string): Promise<number | undefined> {
  const msg = await jsm.streams.getMessage(`KV_${LATEST_BUCKET}`, { last_by_subj: `$KV.${LATEST_BUCKET}.${latestKey(communityId)}` }).catch(() => null);
  return msg ? msg.json<{ netW: number }>().netW : undefined;
}

/** Topics under ec/ that nats-server accepts but that are no reading topic: a level too many, too few, an unknown word, a wrong word. */
const notReadingTopics = (communityId: string): string[] => [`ec/${communityId}/meter/m1/extra`, `ec/${communityId}`, `ec/${communityId}/power`, `ec/${communityId}/metre/m1`];

describe("the MQTT edge loses nothing it acknowledges", () => {
  it("a QoS 1 reading is aggregated, and every other topic under ec/ is a dead letter with its reason and topic, counted alike by doctor and the metrics", { timeout: 60_000 }, async () => {
    // mqtt.js, as a device's firmware would use it.
    expect(await mqttJsPublish("ec/mq1/meter/m1", reading("mq1", 3_000, 1_000), 1)).toBe("acknowledged");
    for (const topic of notReadingTopics("mq1")) expect(await mqttJsPublish(topic, `{"from":"mqtt.js","topic":"${topic}"}`, 1)).toBe("acknowledged");
    // mosquitto_pub: exit 0 once it had its PUBACK.
    expect(await mosquittoPub("ec/mq2/meter/m1", reading("mq2", 500, 2_000))).toEqual({ code: 0, stderr: "" });
    for (const topic of notReadingTopics("mq2")) expect(await mosquittoPub(topic, `{"from":"mosquitto_pub","topic":"${topic}"}`)).toEqual({ code: 0, stderr: "" });

    const published = [...notReadingTopics("mq1"), ...notReadingTopics("mq2")];
    const letters = await eventually(async () => {
      const found = await subjectDeadLetters();
      return found.length >= published.length ? found : undefined;
    }, 15_000, "every non-reading message in the dead letters");
    // MQTT's `/` is NATS's `.`: the dead letter names the topic as a subject.
    expect(letters.map(({ subject }) => subject).sort()).toEqual(published.map((topic) => topic.replaceAll("/", ".")).sort());
    for (const letter of letters) {
      expect(letter.reason).toBe(NOT_A_READING_SUBJECT);
      expect(JSON.parse(letter.data)).toEqual({ from: expect.any(String) as string, topic: letter.subject.replaceAll(".", "/") });
    }
    expect(await eventually(() => latestNet("mq1"), 10_000, "mq1's aggregate")).toBe(2_000);
    expect(await eventually(() => latestNet("mq2"), 10_000, "mq2's aggregate")).toBe(-1_500);

    const metrics = new Scrape(parseSamples(await aggregation.metrics.metrics()));
    expect(metrics.value("ecwatch_aggregator_dead_letters_total", { kind: "subject" })).toBe(published.length);
    expect(metrics.value("ecwatch_aggregator_dead_letters_total", { kind: "reading" })).toBe(0);
    const doctor = await runCli(["doctor", "--json"], { env: { NATS_URL: nats.url, REDIS_URL: redis.url } });
    const checks = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string; counts?: Record<string, number> }> }).checks;
    expect(checks.find(({ name }) => name === `stream ${DLQ_STREAM}`)).toMatchObject({ status: "warn", counts: { subject: published.length, reading: 0 } });
  });
});

describe("the topic rules nats-server enforces (docs/mqtt.md)", () => {
  it("a `.` or a space in a topic: no PUBACK, the server closes the connection, nothing is stored", async () => {
    const before = (await jsm.streams.info(STREAM)).state.last_seq;
    for (const topic of ["ec/mq.3/meter/m1", "ec/mq 3/meter/m1"]) {
      expect(await mqttJsPublish(topic, "{}", 1)).toBe("connection closed");
      expect(await mqttJsPublish(topic, "{}", 0)).toBe("connection closed");
      expect(await mosquittoPub(topic, "{}", 1)).toEqual({ code: 7, stderr: expect.stringContaining("The connection was lost") as string });
    }
    expect((await jsm.streams.info(STREAM)).state.last_seq).toBe(before);
  });

  it("QoS 2 is not supported: the server closes the connection, nothing is stored", async () => {
    const before = (await jsm.streams.info(STREAM)).state.last_seq;
    expect(await mosquittoPub("ec/mq3/meter/m1/extra", "{}", 2)).toEqual({ code: 7, stderr: expect.stringContaining("The connection was lost") as string });
    expect((await jsm.streams.info(STREAM)).state.last_seq).toBe(before);
  });

  it("a wildcard (+ or #) in a publish topic: mqtt.js sends it and the server closes the connection; mosquitto_pub refuses it itself", async () => {
    for (const topic of ["ec/+/meter/m1", "ec/mq3/#"]) {
      expect(await mqttJsPublish(topic, "{}", 1)).toBe("connection closed");
      expect(await mosquittoPub(topic, "{}", 1)).toEqual({ code: 1, stderr: expect.stringContaining("Invalid publish topic") as string });
    }
  });

  it("an empty level or a leading `/` is acknowledged and kept as a dead letter (`ec//x` is `ec./.x`, `/ec/…` is `/.ec.…`)", async () => {
    const before = (await subjectDeadLetters()).length;
    expect(await mqttJsPublish("ec//x", "empty level", 1)).toBe("acknowledged");
    expect(await mosquittoPub("/ec/mq3/meter/m1", reading("mq3", 1, 0))).toEqual({ code: 0, stderr: "" });
    const letters = await eventually(async () => {
      const found = await subjectDeadLetters();
      return found.length >= before + 2 ? found.slice(before) : undefined;
    }, 10_000, "both dead letters");
    expect(letters.map(({ subject }) => subject).sort()).toEqual(["/.ec.mq3.meter.m1", "ec./.x"]);
  });
});

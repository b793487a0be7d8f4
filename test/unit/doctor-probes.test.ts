import { describe, expect, it } from "vitest";
import { type BusProbe, type CacheProbe, type JetStreamProbe, probeNats, probeRedis } from "../../src/doctor/probes.js";
import type { ConsumerView, StreamView } from "../../src/doctor/topology-verdicts.js";
import type { ForeignConsumer } from "../../src/wire/foreign-consumers.js";
import { AGGREGATOR_CONSUMERS, DLQ_STREAM, DLQ_SUBJECTS, LATEST_BUCKET, READING_STREAMS, STATE_BUCKET, STREAM_SUBJECTS } from "../../src/wire/names.js";

const GiB = 1024 ** 3;
const DAY_NS = 86_400 * 1e9;

/** A hand-written JetStream: what it holds is what the test puts in; a request it cannot answer rejects. */
class FakeJetStream implements JetStreamProbe {
  constructor(
    private readonly streams: Readonly<Record<string, StreamView>> = {},
    private readonly consumers: Readonly<Record<string, ConsumerView>> = {},
    private readonly broken?: Error,
    private readonly foreign: ForeignConsumer[] = [],
  ) {}

  foreignConsumers(): Promise<ForeignConsumer[]> {
    return Promise.resolve(this.foreign);
  }

  account(): Promise<{ streams: number; consumers: number; storage: number }> {
    if (this.broken) return Promise.reject(this.broken);
    return Promise.resolve({ streams: Object.keys(this.streams).length, consumers: Object.keys(this.consumers).length, storage: 2048 });
  }

  stream(name: string): Promise<StreamView | undefined> {
    return Promise.resolve(this.streams[name]);
  }

  consumer(_stream: string, name: string): Promise<ConsumerView | undefined> {
    return Promise.resolve(this.consumers[name]);
  }
}

/** A hand-written bus: a server of a version, with JetStream or without; counts its closes. */
class FakeBus implements BusProbe {
  closed = 0;
  constructor(
    readonly serverVersion: string | undefined,
    private readonly js: JetStreamProbe | Error,
  ) {}

  jetStream(): Promise<JetStreamProbe> {
    return this.js instanceof Error ? Promise.reject(this.js) : Promise.resolve(this.js);
  }

  close(): Promise<void> {
    this.closed += 1;
    return Promise.resolve();
  }
}

class FakeCache implements CacheProbe {
  closed = 0;
  constructor(private readonly version: string | undefined) {}

  serverVersion(): Promise<string | undefined> {
    return Promise.resolve(this.version);
  }

  close(): Promise<void> {
    this.closed += 1;
    return Promise.resolve();
  }
}

const refused = (port: number): Error =>
  new Error(`Cannot connect to the server at 127.0.0.1:${port}.`, { cause: Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: "ECONNREFUSED" }) });

const stream = (messages: number, bytes: number): StreamView => ({ config: { subjects: [...STREAM_SUBJECTS], max_age: 7 * DAY_NS, max_bytes: GiB }, state: { messages, bytes } });
const pull: ConsumerView = { num_pending: 0, num_ack_pending: 0, config: {} };

describe("doctor's NATS probe", () => {
  it("gives the connection error's cause as the reason it is unreachable", async () => {
    expect(await probeNats(() => Promise.reject(refused(4222)))).toEqual({ reachable: false, reason: "connect ECONNREFUSED 127.0.0.1:4222", failure: "unreachable" });
  });

  it("on a fresh server reports the server's version, JetStream, and one line for the missing resources; then closes", async () => {
    const bus = new FakeBus("2.9.10", new FakeJetStream());
    const probe = await probeNats(() => Promise.resolve(bus));
    expect(probe).toMatchObject({ reachable: true, version: "2.9.10" });
    expect(probe.reachable && probe.checks.map(({ name, status }) => `${name} ${status}`)).toEqual(["JetStream ok", "resources warn"]);
    expect(probe.reachable && probe.checks[0]!.detail).toBe("0 streams, 0 consumers, 2 KiB stored");
    expect(bus.closed).toBe(1);
  });

  it("adds up what all reading streams hold, and checks each resource", async () => {
    const streams = {
      ...Object.fromEntries(READING_STREAMS.map((name, i) => [name, stream(i === 0 ? 5 : 10, 1024)])),
      [`KV_${LATEST_BUCKET}`]: stream(3, 0),
      [`KV_${STATE_BUCKET}`]: stream(40, 0),
      [DLQ_STREAM]: { ...stream(0, 0), config: { ...stream(0, 0).config, subjects: [...DLQ_SUBJECTS] } },
    };
    const consumers = Object.fromEntries(AGGREGATOR_CONSUMERS.map(({ name }) => [name, pull]));
    const probe = await probeNats(() => Promise.resolve(new FakeBus("2.10.4", new FakeJetStream(streams, consumers))));
    const checks = probe.reachable ? probe.checks : [];
    expect(checks.find((check) => check.name === "stream EC_STREAM")).toMatchObject({ status: "ok", detail: `${5 + 10 * (READING_STREAMS.length - 1)} readings, 9 KiB; keeps 7d / 1 GiB` });
    expect(checks.find((check) => check.name === "aggregator consumers")?.status).toBe("ok");
    expect(checks.every((check) => check.status === "ok")).toBe(true);
  });

  it("names the prototype's re-created agg-worker as a problem, with how to stop the fight", async () => {
    const streams = Object.fromEntries(READING_STREAMS.map((name) => [name, stream(1, 100)]));
    const consumers = Object.fromEntries(AGGREGATOR_CONSUMERS.map(({ name }) => [name, pull]));
    const foreign: ForeignConsumer[] = [
      { stream: "EC_STREAM", name: "agg-worker", push: true, deliverPolicy: "all" },
      { stream: "EC_STREAM_P3", name: "audit", push: false, deliverPolicy: "new" },
    ];
    const probe = await probeNats(() => Promise.resolve(new FakeBus("2.9.10", new FakeJetStream(streams, consumers, undefined, foreign))));
    const checks = probe.reachable ? probe.checks : [];
    const worker = checks.find((check) => check.name === "consumer agg-worker");
    expect(worker).toMatchObject({ status: "fail" });
    expect(worker?.detail).toContain("EC_STREAM has a consumer ecwatch did not create, agg-worker (push consumer, delivers all)");
    expect(worker?.fix).toBe("Stop the other aggregator (the prototype's worker), then remove its consumer with `nats consumer rm EC_STREAM agg-worker -f`.");
    expect(checks.find((check) => check.name === "consumer audit")).toMatchObject({ status: "warn", fix: expect.stringContaining("nats consumer rm EC_STREAM_P3 audit -f") });
  });

  it("without JetStream fails with how to turn it on, and still closes", async () => {
    const bus = new FakeBus("2.9.10", new Error("jetstream not enabled"));
    const probe = await probeNats(() => Promise.resolve(bus));
    expect(probe.reachable && probe.checks).toEqual([
      { name: "JetStream", status: "fail", detail: "not available: jetstream not enabled", fix: "Restart nats-server with `-js` (ecwatch up does)." },
    ]);
    expect(bus.closed).toBe(1);
  });

  it("a JetStream request that fails is one failing line saying to run doctor again", async () => {
    const probe = await probeNats(() => Promise.resolve(new FakeBus("2.9.10", new FakeJetStream({}, {}, new Error("timeout")))));
    expect(probe.reachable && probe.checks).toEqual([
      { name: "JetStream", status: "fail", detail: "request failed: timeout", fix: "Run `ecwatch doctor` again; if it fails again, read the nats-server log." },
    ]);
  });
});

describe("doctor's Redis probe", () => {
  it("reports the server's version and closes the connection", async () => {
    const cache = new FakeCache("7.0.15");
    expect(await probeRedis(() => Promise.resolve(cache))).toEqual({ reachable: true, version: "7.0.15", checks: [] });
    expect(cache.closed).toBe(1);
  });

  it("gives the connection error's cause as the reason it is unreachable", async () => {
    expect(await probeRedis(() => Promise.reject(refused(6379)))).toEqual({ reachable: false, reason: "connect ECONNREFUSED 127.0.0.1:6379", failure: "unreachable" });
  });
});

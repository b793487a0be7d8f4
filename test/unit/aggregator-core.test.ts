import { afterEach, describe, expect, it } from "vitest";
import { Aggregator } from "../../src/aggregator/aggregator.js";
import { partitionLeaseKey } from "../../src/aggregator/lease.js";
import { type AggregatorOptions, type AggregatorStats, emptyStats } from "../../src/aggregator/options.js";
import { PartitionWorker } from "../../src/aggregator/partition-worker.js";
import { StrayForwarder } from "../../src/aggregator/stray-forwarder.js";
import { NOT_A_READING_SUBJECT } from "../../src/wire/decode-reading.js";
import { aggregateFromJson } from "../../src/domain/aggregate.js";
import { decodeDay } from "../../src/energy/day-record.js";
import { partitionOf } from "../../src/wire/names.js";
import { FakeMessage, fakePorts, meterMessage } from "../helpers/aggregator-fakes.js";

/** Waits (in event-loop turns, a few ms at most) until `condition` holds. */
async function until(condition: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const COMMUNITY = "c1";
const PARTITION = partitionOf(COMMUNITY);
const T0 = Date.UTC(2026, 5, 21, 12);
const reading = (meterId: string, secondsIn: number, genW: number, conW: number, community = COMMUNITY) =>
  meterMessage({ communityId: community, meterId, genW, conW, measuredAt: new Date(T0 + secondsIn * 1_000).toISOString(), seq: secondsIn });
/** The same message delivered again, as JetStream marks it. */
const again = (msg: FakeMessage): FakeMessage => new FakeMessage(msg.subject, msg.string(), msg.seq, msg.info.stream, true);

const running: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((unit) => unit.stop()));
});

/** A partition worker on fakes; `errors` collects what it reports. */
async function startWorker(options: AggregatorOptions = {}, ports = fakePorts()) {
  const stats: AggregatorStats = emptyStats();
  const errors: unknown[] = [];
  let released = 0;
  const worker = await PartitionWorker.start(ports, PARTITION, { release: async () => void (released += 1) }, stats, { retryDelayMs: 5, onError: (err) => errors.push(err), ...options });
  running.push(worker);
  const deliver = (...messages: FakeMessage[]) => messages.forEach((msg) => expect(ports.readings.deliver(PARTITION, msg)).toBe(true));
  const latest = () => aggregateFromJson(ports.latest.values.get(COMMUNITY) ?? "");
  return { ports, stats, errors, worker, deliver, latest, released: () => released };
}

describe("the aggregator core on in-memory ports", () => {
  it("acknowledges a reading only after the store that holds it", async () => {
    const { ports, deliver } = await startWorker();
    let release!: () => void;
    ports.state.hold = new Promise<void>((resolve) => (release = resolve));
    const msg = reading("m1", 0, 500, 200);
    deliver(msg);
    await until(() => ports.changes.announced.length === 1, "the aggregate");
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(msg.outcomes).toEqual([]); // announced, but its snapshot is not stored yet
    expect(ports.state.entries.has(COMMUNITY)).toBe(false);
    release();
    await until(() => msg.settled !== undefined, "the ack");
    expect(msg.outcomes).toEqual(["ack"]);
    expect(JSON.parse(ports.state.entries.get(COMMUNITY)!.value).meters.m1).toEqual({ gaps: [], pending: [[500, 200, T0, 0, 0, 0]] });
  });

  it("hands a reading back (nak) when its snapshot cannot be stored, and acknowledges its redelivery once the store works", async () => {
    const { ports, stats, errors, deliver, latest } = await startWorker();
    ports.state.failPut = () => true;
    const msg = reading("m1", 0, 500, 200);
    deliver(msg);
    await until(() => msg.settled !== undefined, "the nak");
    expect(msg.outcomes).toEqual(["nak"]);
    expect(stats.storeErrors).toBe(1);
    expect(String(errors[0])).toContain("put c1 failed");
    ports.state.failPut = () => false;
    const redelivered = again(msg);
    deliver(redelivered);
    await until(() => redelivered.settled !== undefined, "the ack of the redelivery");
    expect(redelivered.outcomes).toEqual(["ack"]);
    expect(ports.state.entries.has(COMMUNITY)).toBe(true);
    expect(latest()).toMatchObject({ genW: 500, conW: 200, meters: 1 });
  });

  it("hands back the readings of a community whose aggregate could not be stored, and stores no snapshot ahead of it", async () => {
    const { ports, stats, deliver } = await startWorker();
    ports.latest.fail = true;
    const msg = reading("m1", 0, 500, 200);
    deliver(msg);
    await until(() => msg.settled !== undefined, "the nak");
    expect(msg.outcomes).toEqual(["nak"]);
    expect(stats.storeErrors).toBe(1);
    expect(ports.changes.announced).toEqual([]);
    expect(ports.state.entries.has(COMMUNITY)).toBe(false);
  });

  it("a redelivered reading changes nothing: no new version, no announcement, acknowledged", async () => {
    const { ports, stats, deliver, latest } = await startWorker();
    const first = reading("m1", 0, 500, 200);
    deliver(first, reading("m2", 0, 0, 300));
    await until(() => first.settled === "ack", "the first ack");
    const version = latest()!.version;
    const announced = ports.changes.announced.length;
    const redelivered = again(first);
    deliver(redelivered);
    await until(() => redelivered.settled !== undefined, "the redelivery's ack");
    expect(redelivered.outcomes).toEqual(["ack"]);
    expect(stats.ignored).toBe(1);
    expect(ports.changes.announced.length).toBe(announced);
    expect(latest()).toMatchObject({ version, genW: 500, conW: 500, meters: 2 });
  });

  it("a new community's aggregates carry a new epoch, the wall-clock ms its state was created at; a restart keeps it", async () => {
    const ports = fakePorts();
    const before = Date.now();
    const first = await startWorker({}, ports);
    const msg = reading("m1", 0, 500, 200);
    first.deliver(msg);
    await until(() => msg.settled !== undefined, "the ack");
    const epoch = first.latest()!.epoch;
    expect(epoch).toBeGreaterThanOrEqual(before);
    expect(epoch).toBeLessThanOrEqual(Date.now());
    expect(JSON.parse(ports.state.entries.get(COMMUNITY)!.value)).toMatchObject({ epoch, version: 1 });
    await first.worker.stop();
    // A restart (or the next owner of the partition) goes on in the same epoch.
    const restarted = await startWorker({}, ports);
    restarted.deliver(reading("m1", 1, 600, 200));
    await until(() => restarted.latest()?.version === 2, "the next aggregate");
    expect(restarted.latest()).toMatchObject({ epoch, version: 2, genW: 600 });
  });

  it("carries on the epoch and version of a stored aggregate whose snapshot its owner never stored", async () => {
    const ports = fakePorts();
    ports.latest.values.set(COMMUNITY, JSON.stringify({ communityId: COMMUNITY, genW: 1, conW: 1, netW: 0, meters: 1, stale: 0, measuredAt: "", aggregatedAt: "", version: 7, epoch: 42 }));
    const { deliver, latest } = await startWorker({}, ports);
    deliver(reading("m1", 0, 500, 200));
    await until(() => latest()?.genW === 500, "the aggregate");
    expect(latest()).toMatchObject({ epoch: 42, version: 8 });
  });

  it("starts a new epoch over a stored value that is not ecwatch's (the prototype's: no version)", async () => {
    const ports = fakePorts();
    ports.latest.values.set(COMMUNITY, JSON.stringify({ genW: 1, conW: 1, measuredAt: "2026-06-21T12:00:00Z" }));
    const before = Date.now();
    const { deliver, latest } = await startWorker({}, ports);
    deliver(reading("m1", 0, 500, 200));
    await until(() => latest()?.genW === 500, "the aggregate");
    expect(latest()!.epoch).toBeGreaterThanOrEqual(before);
    expect(latest()!.version).toBe(1);
  });

  it("dead-letters a malformed message and a reading of another partition, acknowledging each once its dead letter is stored", async () => {
    const { ports, stats, deliver } = await startWorker();
    const malformed = new FakeMessage(reading("m1", 0, 1, 1).subject, "{not json", 7);
    const elsewhere = PARTITION === partitionOf("c2") ? "c3" : "c2";
    const misplaced = new FakeMessage(reading("m1", 0, 1, 1).subject.replace(`.${COMMUNITY}.`, `.${elsewhere}.`), reading("m1", 0, 1, 1, elsewhere).string(), 8);
    const valid = reading("m1", 1, 100, 50);
    deliver(malformed, misplaced, valid);
    await until(() => [malformed, misplaced, valid].every((msg) => msg.settled), "all three settled");
    expect([malformed.settled, misplaced.settled, valid.settled]).toEqual(["ack", "ack", "ack"]);
    expect(stats.deadLetters).toBe(2);
    expect(stats.notReadingSubjects).toBe(0); // both were on reading subjects
    expect(ports.deadLetters.stored.map(({ reason }) => reason)).toEqual([expect.stringMatching(/JSON/i), expect.stringContaining(`belongs in partition ${partitionOf(elsewhere)}`)]);
    expect(ports.deadLetters.stored[0]).toMatchObject({ subject: malformed.subject, data: "{not json" });
  });

  it("what EC_STREAM holds under ec. that is no reading subject (an MQTT topic with a level too many) is acknowledged once stored as a dead letter with its reason and subject, and counted apart", async () => {
    const ports = fakePorts();
    const stats = emptyStats();
    running.push(await StrayForwarder.start(ports, { release: async () => undefined }, stats, { retryDelayMs: 5 }));
    const strays = (msg: FakeMessage) => ports.readings.consumers.get("strays")!(msg);
    ports.deadLetters.fail = true;
    const extra = new FakeMessage("ec.mq1.meter.m1.extra", '{"genW":1}', 3, "EC_STREAM");
    strays(extra);
    await until(() => extra.settled !== undefined, "the nak");
    expect([extra.settled, stats.deadLetters]).toEqual(["nak", 0]);
    ports.deadLetters.fail = false;
    const again = new FakeMessage(extra.subject, extra.string(), extra.seq, "EC_STREAM", true);
    strays(again);
    await until(() => again.settled !== undefined, "the ack");
    expect(again.settled).toBe("ack");
    expect(ports.deadLetters.stored).toEqual([{ reason: NOT_A_READING_SUBJECT, subject: "ec.mq1.meter.m1.extra", data: '{"genW":1}' }]);
    expect([stats.deadLetters, stats.notReadingSubjects, stats.forwarded]).toEqual([1, 1, 0]);
  });

  it("hands a malformed message back when its dead letter cannot be stored", async () => {
    const { ports, stats, deliver } = await startWorker();
    ports.deadLetters.fail = true;
    const malformed = new FakeMessage(reading("m1", 0, 1, 1).subject, "[]", 9);
    deliver(malformed);
    await until(() => malformed.settled !== undefined, "the nak");
    expect(malformed.outcomes).toEqual(["nak"]);
    expect(stats.deadLetters).toBe(0);
  });

  it("a cache that fails holds nothing back, and the newest value reaches it once it is back", async () => {
    const { ports, stats, deliver } = await startWorker();
    ports.cache.fail = true;
    const msg = reading("m1", 0, 500, 200);
    deliver(msg);
    await until(() => msg.settled !== undefined, "the ack");
    expect(msg.outcomes).toEqual(["ack"]);
    expect(stats.cacheErrors).toBeGreaterThanOrEqual(1);
    expect(ports.changes.announced).toHaveLength(1);
    ports.cache.fail = false;
    await until(() => ports.cache.values.has(COMMUNITY), "the retried cache write");
    expect(aggregateFromJson(ports.cache.values.get(COMMUNITY)!)).toMatchObject({ genW: 500, conW: 200 });
  });

  it("a new owner applies first the readings its crashed predecessor had out, in their place, and acknowledges them when they come again", async () => {
    // A minute meter: the reading at 3 min was delivered to the owner that crashed, never acknowledged.
    const ports = fakePorts();
    const leftOut = reading("m1", 3 * 60, 1_200, 0);
    ports.readings.leftUnacknowledged.set(PARTITION, [leftOut]);
    const { deliver, stats } = await startWorker({}, ports);
    const newer = [0, 1, 2, 4, 5, 6, 7, 8].map((minute) => reading("m1", minute * 60, 600, 0));
    deliver(...newer);
    await until(() => newer.every((msg) => msg.settled === "ack") && ports.energy.records.size > 0, "the acks and the day record");
    expect(leftOut.outcomes).toEqual([]); // read from the stream, not taken from the consumer
    const day = decodeDay(ports.energy.records.values().next().value!)!;
    // Final up to 5 min (8 min − a grace of 3 intervals): 4 minutes of 600 W and, in its place, the minute of 1,200 W at 3 min.
    expect([...day.minutes.values()].reduce((sum, e) => sum + e.genWms, 0)).toBe((600 * 4 + 1_200) * 60_000);
    // After the consumer's ack wait it comes again: a duplicate, acknowledged; nothing was late.
    const redelivered = again(leftOut);
    deliver(redelivered);
    await until(() => redelivered.settled !== undefined, "the redelivery's ack");
    expect(redelivered.outcomes).toEqual(["ack"]);
    expect(stats).toMatchObject({ late: 0, ignored: 1 });
  });

  it("stop stores and acknowledges what waits for the next store, then gives the lease up", async () => {
    const { ports, deliver, worker, released } = await startWorker({ storeIntervalMs: 60_000 });
    const first = reading("m1", 0, 500, 200);
    deliver(first);
    await until(() => first.settled === "ack", "the first store");
    const second = reading("m1", 1, 600, 200);
    deliver(second);
    await until(() => ports.changes.announced.length === 2, "the second aggregate");
    expect(second.outcomes).toEqual([]); // waits for the next store, a minute away
    await worker.stop();
    expect(second.outcomes).toEqual(["ack"]);
    expect(JSON.parse(ports.state.entries.get(COMMUNITY)!.value).meters.m1.pending.at(-1)).toEqual([600, 200, T0 + 1_000, 1, 0, 0]);
    expect(released()).toBe(1);
  });
});

describe("an aggregator that loses a partition's lease", () => {
  it("stops consuming it, stores and acknowledges nothing more of it, and hands back what it held", async () => {
    const ports = fakePorts();
    const errors: unknown[] = [];
    const aggregator = await Aggregator.start(ports, { leaseTtlMs: 150, storeIntervalMs: 60_000, retryDelayMs: 5, onError: (err) => errors.push(err) });
    running.push(aggregator);
    expect(aggregator.partitions).toContain(PARTITION);
    const first = reading("m1", 0, 500, 200);
    expect(ports.readings.deliver(PARTITION, first)).toBe(true);
    await until(() => first.settled === "ack", "the first store");
    const snapshot = ports.state.entries.get(COMMUNITY)!.value;
    const second = reading("m1", 1, 900, 200);
    ports.readings.deliver(PARTITION, second);
    await until(() => ports.changes.announced.length === 2, "the second aggregate");

    // Another aggregator, on another host, takes the lease over (as after a network partition).
    const key = partitionLeaseKey(PARTITION);
    const held = ports.state.entries.get(key)!;
    await ports.state.update(key, JSON.stringify({ id: "other", pid: 1, host: "elsewhere", expiresAt: Date.now() + 60_000 }), held.revision);

    await until(() => second.settled !== undefined, "the lost lease to be noticed");
    expect(second.outcomes).toEqual(["nak"]);
    expect(errors.map((err) => (err as { code?: string }).code)).toContain("LEASE_LOST");
    expect(ports.readings.consumers.has(PARTITION)).toBe(false);
    expect(aggregator.partitions).not.toContain(PARTITION);
    expect(ports.state.entries.get(COMMUNITY)!.value).toBe(snapshot); // nothing stored after the loss
    expect(JSON.parse(ports.state.entries.get(key)!.value).id).toBe("other");
  });
});

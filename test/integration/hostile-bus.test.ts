import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aggregatorBacklog } from "../../src/nats/inspect.js";
import { connectNats } from "../../src/nats/connect.js";
import { DLQ_STREAM, PARTITIONED_SUBJECT_PREFIX, PARTITIONS, meterReadingSubject, partitionOf, partitionStream, partitionedSubject } from "../../src/wire/names.js";
import type { Aggregate } from "../../src/domain/aggregate.js";
import { MAX_READING_BYTES } from "../../src/domain/reading.js";
import { eventually, usePipeline } from "../helpers/stack.js";

const pipeline = usePipeline();
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;

beforeAll(async () => {
  nc = await connectNats(pipeline.stack.natsUrl, "test-hostile-bus");
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  await nc?.drain();
});

interface DeadLetter {
  readonly reason: string;
  readonly subject: string;
  readonly data: string;
}

/** Every dead letter stored so far, in order. */
async function deadLetters(): Promise<DeadLetter[]> {
  const { state } = await jsm.streams.info(DLQ_STREAM);
  const letters: DeadLetter[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq += 1) {
    const msg = await jsm.streams.getMessage(DLQ_STREAM, { seq });
    if (msg) letters.push(msg.json<DeadLetter>());
  }
  return letters;
}

/** Waits until the aggregator has acknowledged everything published so far. */
const drained = (): Promise<true> => eventually(async () => ((await aggregatorBacklog(jsm)) === 0 ? true : undefined), 20_000, "the aggregator to acknowledge everything");

async function latest(communityId: string): Promise<Aggregate | undefined> {
  const res = await fetch(`${pipeline.api.url}/communities/${communityId}`);
  return res.status === 200 ? ((await res.json()) as Aggregate) : undefined;
}

/**
 * The subject nats-server stores a published reading under: its mapping hashes the bytes of the
 * community token (FNV-1a, mod 8), which is partitionOf for the ASCII of valid ids, but not for
 * other UTF-8.
 */
function storedSubject(published: string): string {
  const [, community, ...rest] = published.split(".");
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(community!, "utf8")) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return [PARTITIONED_SUBJECT_PREFIX, hash % PARTITIONS, community, ...rest].join(".");
}

/** `count` community ids, each in another partition (so their streams' sequences run in parallel). */
function idsInDistinctPartitions(prefix: string, count: number): string[] {
  const ids = new Map<number, string>();
  for (let i = 0; ids.size < count; i += 1) {
    const id = `${prefix}${i}`;
    if (!ids.has(partitionOf(id))) ids.set(partitionOf(id), id);
  }
  return [...ids.values()];
}

const reading = (communityId: string, meterId: string, genW: number, second: number, seq = second) => ({
  meterId,
  communityId,
  genW,
  conW: 0,
  measuredAt: new Date(Date.UTC(2026, 10, 22, 12, 0, second)).toISOString(),
  seq,
});

describe("hostile messages on the bus", () => {
  it("dead-letters every malformed, wrong-typed, misplaced and oversized message with its reason, and aggregates the next valid reading", async () => {
    // First messages of their partitions: each partition stream numbers its messages from 1.
    const [a, b, c, d] = idsInDistinctPartitions("hostile", 4) as [string, string, string, string];
    const maxPayload = nc.info!.max_payload;
    const wrongPartition = (partitionOf(a) + 1) % PARTITIONS;
    const hostile: Array<{ subject: string; data: string | Uint8Array; reason: RegExp | string; storedAs?: string }> = [
      { subject: meterReadingSubject(a, "m1"), data: "not json at all", reason: "the body is not valid JSON" },
      { subject: meterReadingSubject(b, "m1"), data: '{"meterId":"m1","genW":', reason: "the body is not valid JSON" },
      { subject: meterReadingSubject(c, "m1"), data: "null", reason: "the body must be a JSON object" },
      { subject: meterReadingSubject(d, "m1"), data: "[1,2,3]", reason: "the body must be a JSON object" },
      // Wrong types, missing and out-of-range fields.
      { subject: meterReadingSubject(a, "m1"), data: JSON.stringify({ ...reading(a, "m1", 1, 1), genW: "12" }), reason: "genW must be a finite number of watts" },
      { subject: meterReadingSubject(a, "m1"), data: JSON.stringify({ ...reading(a, "m1", 1, 1), conW: null }), reason: "conW is required" },
      { subject: meterReadingSubject(a, "m1"), data: JSON.stringify({ ...reading(a, "m1", 1, 1), genW: -5 }), reason: "genW must not be negative" },
      { subject: meterReadingSubject(a, "m1"), data: JSON.stringify({ ...reading(a, "m1", 1, 1), genW: 1e300 }), reason: /^genW must be at most/ },
      { subject: meterReadingSubject(a, "m1"), data: '{"meterId":"m1","communityId":"x","genW":1e999,"conW":0}', reason: "genW must be a finite number of watts" },
      { subject: meterReadingSubject(a, "m1"), data: JSON.stringify({ ...reading(a, "m1", 1, 1), seq: "7" }), reason: "seq must be a non-negative integer" },
      { subject: meterReadingSubject(a, "m1"), data: JSON.stringify({ ...reading(a, "m1", 1, 1), seq: -1 }), reason: "seq must be a non-negative integer" },
      { subject: meterReadingSubject(a, "m1"), data: JSON.stringify({ ...reading(a, "m1", 1, 1), measuredAt: "2026-02-30T00:00:00Z" }), reason: /^measuredAt must be an ISO-8601 timestamp/ },
      { subject: meterReadingSubject(a, "m1"), data: JSON.stringify({ ...reading(a, "m1", 1, 1), measuredAt: 1_795_348_800_000 }), reason: /^measuredAt must be/ },
      { subject: meterReadingSubject(a, "_community"), data: JSON.stringify(reading(a, "_community", 1, 1)), reason: /^meterId _community is reserved/ },
      { subject: meterReadingSubject(a, "m2"), data: JSON.stringify(reading(a, "m1", 1, 1)), reason: "meterId differs from the subject" },
      { subject: `ec.${a}.net`, data: JSON.stringify({ communityId: a, genW: 1, conW: 1 }), reason: "measuredAt is required" },
      // Ids a subject may carry but a reading may not (NATS allows UTF-8 and most punctuation in a token).
      { subject: "ec.hostile%.meter.m1", data: JSON.stringify(reading("hostile%", "m1", 1, 1)), reason: "communityId in the subject must match [A-Za-z0-9_-]{1,64}" },
      { subject: "ec.ü.meter.m1", data: JSON.stringify(reading("ü", "m1", 1, 1)), reason: "communityId in the subject must match [A-Za-z0-9_-]{1,64}" },
      { subject: `ec.${a}.meter.m\u202e1`, data: JSON.stringify(reading(a, "m\u202e1", 1, 1)), reason: "meterId must match [A-Za-z0-9_-]{1,64}" },
      { subject: `ec.${"x".repeat(65)}.meter.m1`, data: JSON.stringify(reading("x".repeat(65), "m1", 1, 1)), reason: "communityId in the subject must match [A-Za-z0-9_-]{1,64}" },
      // Straight into a partition: the right one with bad data, and the wrong one with a valid reading.
      { subject: partitionedSubject(meterReadingSubject(b, "m1"))!, data: "{}", reason: "meterId is required", storedAs: partitionedSubject(meterReadingSubject(b, "m1")) },
      {
        subject: `${PARTITIONED_SUBJECT_PREFIX}.${wrongPartition}.${a}.meter.m1`,
        data: JSON.stringify(reading(a, "m1", 1, 1)),
        reason: new RegExp(`^partition ${wrongPartition} holds a reading of ${a}, which belongs in partition ${partitionOf(a)}`),
        storedAs: `${PARTITIONED_SUBJECT_PREFIX}.${wrongPartition}.${a}.meter.m1`,
      },
      { subject: `${PARTITIONED_SUBJECT_PREFIX}.${partitionOf(c)}.${c}.meter`, data: JSON.stringify(reading(c, "m1", 1, 1)), reason: /^subject is not/, storedAs: `${PARTITIONED_SUBJECT_PREFIX}.${partitionOf(c)}.${c}.meter` },
      // Oversized, near the server's largest payload: garbage, and a valid reading padded out.
      { subject: meterReadingSubject(c, "m1"), data: new Uint8Array(maxPayload - 4_096).fill(0xff), reason: /^the message is \d+ bytes; a reading is at most/ },
      { subject: meterReadingSubject(d, "m1"), data: JSON.stringify({ ...reading(d, "m1", 5, 1), pad: "x".repeat(maxPayload - 4_096) }), reason: /^the message is \d+ bytes; a reading is at most/ },
      { subject: meterReadingSubject(d, "m1"), data: JSON.stringify({ ...reading(d, "m1", 5, 1), pad: "é".repeat(MAX_READING_BYTES) }), reason: /^the message is \d+ bytes; a reading is at most/ },
    ];
    const before = (await jsm.streams.info(DLQ_STREAM)).state.messages;
    const deadLettersBefore = pipeline.aggregation.aggregator.stats.deadLetters;
    // Published without an id: JetStream stores each one.
    for (const message of hostile) await js.publish(message.subject, message.data);
    // The partitions are numbered independently: the same sequence turns up in several of them.
    const firstSeqs = await Promise.all([a, b, c, d].map(async (id) => (await jsm.streams.info(partitionStream(partitionOf(id)))).state.first_seq));
    expect(firstSeqs).toEqual([1, 1, 1, 1]);

    // The aggregator carries on: a valid reading after them is aggregated.
    await js.publish(meterReadingSubject(a, "m1"), JSON.stringify(reading(a, "m1", 700, 10)));
    const served = await eventually(() => latest(a), 20_000, `a valid reading of ${a}`);
    expect(served).toMatchObject({ communityId: a, genW: 700, meters: 1 });
    await drained();

    const letters = (await deadLetters()).slice(before);
    expect(letters).toHaveLength(hostile.length);
    expect(pipeline.aggregation.aggregator.stats.deadLetters - deadLettersBefore).toBe(hostile.length);
    const unmatched = [...letters];
    for (const message of hostile) {
      const storedAs = message.storedAs ?? storedSubject(message.subject);
      const short = typeof message.data === "string" && message.data.length < 1_000 ? message.data : undefined;
      const index = unmatched.findIndex(
        (l) => l.subject === storedAs && (typeof message.reason === "string" ? l.reason === message.reason : message.reason.test(l.reason)) && (short === undefined || l.data === short),
      );
      expect(index, `a dead letter of ${storedAs}: ${String(message.reason)}; got ${JSON.stringify(unmatched.map((l) => [l.subject, l.reason]))}`).toBeGreaterThanOrEqual(0);
      // Kept for inspection (cut to 64 KiB).
      expect(unmatched[index]!.data.length).toBeLessThanOrEqual(64 * 1024);
      unmatched.splice(index, 1);
    }
    // None of them reached a total: b, c and d have no aggregate at all.
    for (const id of [b, c, d]) expect(await latest(id)).toBeUndefined();
  });

  it("counts a replayed reading once: a repeated Nats-Msg-Id is dropped by JetStream, the same reading again or with an older seq changes nothing, an older reading no total", async () => {
    const id = "replayed1";
    const subject = meterReadingSubject(id, "m1");
    const stats = pipeline.aggregation.aggregator.stats;
    const dlqBefore = (await jsm.streams.info(DLQ_STREAM)).state.messages;

    const first = await js.publish(subject, JSON.stringify(reading(id, "m1", 500, 20)), { msgID: `${id}.m1.20` });
    expect(first.duplicate).toBe(false);
    const original = await eventually(() => latest(id), 20_000, "the first reading");
    expect(original).toMatchObject({ genW: 500, meters: 1 });
    await drained();
    const counted = { readings: stats.readings, ignored: stats.ignored };

    // The same message id: JetStream stores it once, the aggregator never sees the copy.
    const copy = await js.publish(subject, JSON.stringify(reading(id, "m1", 999, 20)), { msgID: `${id}.m1.20` });
    expect(copy.duplicate).toBe(true);
    expect(copy.seq).toBe(first.seq);
    // Replays that get through (another id, or none): the same reading, and an older one of the same time.
    await js.publish(subject, JSON.stringify(reading(id, "m1", 500, 20)));
    await js.publish(subject, JSON.stringify(reading(id, "m1", 888, 20, 19)), { msgID: `${id}.m1.19` });
    await js.publish(subject, JSON.stringify(reading(id, "m1", 777, 5)), { msgID: `${id}.m1.5` });
    await drained();

    expect(stats.readings - counted.readings).toBe(3);
    // The same reading again, and one of the same time with a lower seq, change nothing. The older reading (12:00:05) comes
    // within the meter's grace: it waits in its place for the energy (issue 17); the live value stays.
    expect(stats.ignored - counted.ignored).toBe(2);
    expect(await latest(id)).toEqual(original);
    expect((await jsm.streams.info(DLQ_STREAM)).state.messages).toBe(dlqBefore);

    // And a newer reading still counts.
    await js.publish(subject, JSON.stringify(reading(id, "m1", 600, 21)), { msgID: `${id}.m1.21` });
    const next = await eventually(async () => {
      const aggregate = await latest(id);
      return aggregate?.genW === 600 ? aggregate : undefined;
    });
    expect(next.version).toBe(original.version + 1);
  });
});

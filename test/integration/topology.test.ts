import { AckPolicy, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { nanos, type NatsConnection, TimeoutError } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectNats } from "../../src/nats/connect.js";
import { DEFAULT_RETENTION, ensureTopology, MAX_ACK_PENDING } from "../../src/nats/topology.js";
import { wipeTopology } from "../../src/nats/inspect.js";
import { jetstream } from "@nats-io/jetstream";
import { AGGREGATOR_CONSUMERS, DLQ_STREAM, DLQ_SUBJECTS, PROTOTYPE_CONSUMER, READING_STREAMS, STREAM, STREAM_SUBJECTS, deadLetterSubject } from "../../src/wire/names.js";
import { eventually } from "../helpers/stack.js";
import { startAggregation, startApi } from "../../src/app/services.js";
import { startTestStack, type TestStack } from "../helpers/stack.js";

let stack: TestStack;
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  stack = await startTestStack();
  nc = await connectNats(stack.natsUrl, "test-topology");
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  await nc?.close();
  await stack?.stop();
});

describe("the prototype's resources", () => {
  it("are reused and brought in line, saying what changed", async () => {
    await wipeTopology(jsm);
    // As the prototype left them: all of ec.> in the stream, no limits, a push consumer.
    await jsm.streams.add({ name: STREAM, subjects: ["ec.>"] });
    await jsm.consumers.add(STREAM, { durable_name: PROTOTYPE_CONSUMER, ack_policy: AckPolicy.Explicit, deliver_subject: "prototype.deliver" });

    const aggregation = await startAggregation(stack.natsUrl, stack.redisUrl, { retention: { maxAgeMs: 86_400_000, maxBytes: 1 << 30 } });
    try {
      expect(aggregation.changes).toEqual(
        expect.arrayContaining([
          `stream ${STREAM}: subjects ["ec.>"] → ${JSON.stringify(STREAM_SUBJECTS)}`,
          `stream ${STREAM}: max_age unlimited → 1d`,
          `created streams ${READING_STREAMS.slice(1).join(", ")}`,
          `removed the prototype's consumer ${PROTOTYPE_CONSUMER}: ecwatch reads ${STREAM} through agg-strays (replays the stream once) and each partition through its own`,
          `created consumers ${AGGREGATOR_CONSUMERS.map(({ name }) => name).join(", ")}`,
        ]),
      );
      const stream = await jsm.streams.info(STREAM);
      expect([...(stream.config.subjects ?? [])].sort()).toEqual([...STREAM_SUBJECTS].sort());
      expect(stream.config.max_age).toBe(nanos(86_400_000));
      const consumers = await Promise.all(AGGREGATOR_CONSUMERS.map(({ stream: of, name }) => jsm.consumers.info(of, name)));
      expect(consumers.map((consumer) => [consumer.stream_name, consumer.name, consumer.config.deliver_subject])).toEqual(
        AGGREGATOR_CONSUMERS.map(({ stream: of, name }) => [of, name, undefined]),
      );
      await expect(jsm.consumers.info(STREAM, PROTOTYPE_CONSUMER)).rejects.toThrow();
    } finally {
      await aggregation.stop();
    }
  });

  it("an API, or a simulator (which calls ensureTopology without retention), starting later leaves the aggregator's retention alone", async () => {
    const api = await startApi(stack.natsUrl, stack.redisUrl, "127.0.0.1", 0);
    await api.stop();
    expect(await ensureTopology(jsm)).toEqual([]);
    expect((await jsm.streams.info(STREAM)).config.max_age).toBe(nanos(86_400_000));
  });

  it("a consumer delete that times out and lands while it is retried does not stop the setup", async () => {
    await wipeTopology(jsm);
    await jsm.streams.add({ name: STREAM, subjects: ["ec.>"] });
    await jsm.consumers.add(STREAM, { durable_name: PROTOTYPE_CONSUMER, ack_policy: AckPolicy.Explicit, deliver_subject: "prototype.deliver" });
    // The first delete times out before the server has applied it; it lands just before the
    // retry's own delete, which the server then answers with "consumer not found".
    let deletes = 0;
    const consumers = new Proxy(jsm.consumers, {
      get: (target, property) =>
        property === "delete"
          ? async (stream: string, name: string) => {
              deletes += 1;
              if (deletes === 1) throw new TimeoutError();
              if (deletes === 2) await target.delete(stream, name);
              return target.delete(stream, name);
            }
          : Reflect.get(target, property),
    });
    const lateDeletes = new Proxy(jsm, { get: (target, property) => (property === "consumers" ? consumers : Reflect.get(target, property)) });

    await ensureTopology(lateDeletes, DEFAULT_RETENTION);
    expect(deletes).toBe(2);
    await expect(jsm.consumers.info(STREAM, PROTOTYPE_CONSUMER)).rejects.toThrow();
    const created = await Promise.all(AGGREGATOR_CONSUMERS.map(({ stream, name }) => jsm.consumers.info(stream, name)));
    expect(created.map((consumer) => consumer.name)).toEqual(AGGREGATOR_CONSUMERS.map(({ name }) => name));
  });

  it("an aggregator consumer left by an earlier ecwatch gets today's max_ack_pending, in place", async () => {
    await wipeTopology(jsm);
    await ensureTopology(jsm);
    const { stream, name } = AGGREGATOR_CONSUMERS[0]!;
    await jsm.consumers.update(stream, name, { max_ack_pending: 20_000 });
    const aggregation = await startAggregation(stack.natsUrl, stack.redisUrl);
    try {
      expect(aggregation.changes).toEqual([`set max_ack_pending of consumer ${name} to ${MAX_ACK_PENDING}`]);
      const consumers = await Promise.all(AGGREGATOR_CONSUMERS.map(({ stream: of, name: consumer }) => jsm.consumers.info(of, consumer)));
      expect(consumers.map((consumer) => consumer.config.max_ack_pending)).toEqual(AGGREGATOR_CONSUMERS.map(() => MAX_ACK_PENDING));
    } finally {
      await aggregation.stop();
    }
  });
});

describe("a stack of an ecwatch before issue 18", () => {
  // EC_STREAM held the two reading levels only, and EC_DLQ `ec.dlq`, which `ec.>` overlaps.
  const OLD_STREAM_SUBJECTS = ["ec.*.net", "ec.*.meter.*"];
  const OLD_DLQ_SUBJECT = "ec.dlq";

  it("a simulator or an API leaves the old subjects alone and starts; the aggregator moves the dead letters' subject, then widens EC_STREAM, saying so", async () => {
    await wipeTopology(jsm);
    await jsm.streams.add({ name: STREAM, subjects: OLD_STREAM_SUBJECTS });
    await jsm.streams.add({ name: DLQ_STREAM, subjects: [OLD_DLQ_SUBJECT] });
    const js = jetstream(nc);
    await js.publish(OLD_DLQ_SUBJECT, JSON.stringify({ reason: "an old one", subject: "ecp.1.c.meter.m", data: "x" }));

    // Without retention (sim, serve): nothing of the old subjects changes, nothing fails.
    const unchanged = await ensureTopology(jsm);
    expect(unchanged.some((change) => change.includes(`stream ${STREAM}:`) || change.includes(`stream ${DLQ_STREAM}:`))).toBe(false);
    expect((await jsm.streams.info(STREAM)).config.subjects).toEqual(OLD_STREAM_SUBJECTS);
    expect((await jsm.streams.info(DLQ_STREAM)).config.subjects).toEqual([OLD_DLQ_SUBJECT]);

    const aggregation = await startAggregation(stack.natsUrl, stack.redisUrl, { retention: DEFAULT_RETENTION });
    try {
      expect(aggregation.changes).toEqual(
        expect.arrayContaining([
          `stream ${DLQ_STREAM}: subjects ${JSON.stringify([OLD_DLQ_SUBJECT])} → ${JSON.stringify(DLQ_SUBJECTS)}`,
          `stream ${STREAM}: subjects ${JSON.stringify(OLD_STREAM_SUBJECTS)} → ${JSON.stringify(STREAM_SUBJECTS)}`,
        ]),
      );
      expect((await jsm.streams.info(STREAM)).config.subjects).toEqual([...STREAM_SUBJECTS]);
      const dlq = await jsm.streams.info(DLQ_STREAM);
      expect(dlq.config.subjects).toEqual([...DLQ_SUBJECTS]);
      expect(dlq.state.messages).toBe(1); // the old dead letter is kept

      // What EC_STREAM now takes: a subject under ec. that is no reading is stored (acked by JetStream) and dead-lettered.
      const ack = await js.publish("ec.mq1.meter.m1.extra", "{}");
      expect(ack.stream).toBe(STREAM);
      const letter = await eventually(() => jsm.streams.getMessage(DLQ_STREAM, { last_by_subj: deadLetterSubject("subject") }).then((m) => m ?? undefined, () => undefined), 10_000, "the dead letter");
      expect(letter.json()).toMatchObject({ subject: "ec.mq1.meter.m1.extra", data: "{}", reason: expect.stringContaining("is not ec.<communityId>.net") });
      expect(aggregation.aggregator.stats.notReadingSubjects).toBe(1);
    } finally {
      await aggregation.stop();
    }
  });
});

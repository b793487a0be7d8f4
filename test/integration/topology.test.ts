import { AckPolicy, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { nanos, type NatsConnection, TimeoutError } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectNats } from "../../src/nats/connect.js";
import { DEFAULT_RETENTION, ensureTopology, MAX_ACK_PENDING } from "../../src/nats/topology.js";
import { wipeTopology } from "../../src/nats/inspect.js";
import { AGGREGATOR_CONSUMERS, PROTOTYPE_CONSUMER, READING_STREAMS, STREAM, STREAM_SUBJECTS } from "../../src/wire/names.js";
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

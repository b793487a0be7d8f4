/**
 * What a partition's new owner reads back after a crash (nats/aggregator-stores.ts
 * `unacknowledged`), on a real nats-server: every reading the dead owner was delivered and did not
 * acknowledge, however far past the consumer's ack floor. After a few quick crashes the floor
 * stays at a reading only replayed (never acknowledged by the owner that replayed it) while tens of
 * thousands after it are acknowledged; the dead owner's unacknowledged ones at the end must still
 * come back, or they return after the ack wait as redelivered readings older than their meter's
 * integration, are taken for duplicates, and their energy is lost.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Bus, openBus } from "../../src/nats/bus.js";
import { natsAggregatorStores } from "../../src/nats/aggregator-stores.js";
import { ensureTopology } from "../../src/nats/topology.js";
import { meterReadingSubject, partitionConsumer, partitionOf, partitionStream, partitionedSubject } from "../../src/wire/names.js";
import { eventually, startTestStack, type TestStack } from "../helpers/stack.js";

let stack: TestStack;
let bus: Bus;

beforeAll(async () => {
  stack = await startTestStack();
  bus = await openBus(stack.natsUrl, "test-crash-replay");
  await ensureTopology(bus.jsm);
});

afterAll(async () => {
  await bus?.close();
  await stack?.stop();
});

it("a new owner reads back every unacknowledged reading, the last ones of a span longer than 20,000 past the ack floor included", { timeout: 120_000 }, async () => {
  const communityId = "replay1";
  const partition = partitionOf(communityId);
  const subject = partitionedSubject(meterReadingSubject(communityId, "m1"))!;
  const total = 20_100;
  for (let from = 0; from < total; from += 1_000) {
    await Promise.all(Array.from({ length: Math.min(1_000, total - from) }, (_, i) => bus.js.publish(subject, JSON.stringify({ n: from + i + 1 }))));
  }

  // The owners before: the first reading delivered and never acknowledged (it was only replayed), then every
  // one acknowledged but the last five, which the owner that just died had been delivered.
  const unacknowledged = new Set([1, ...Array.from({ length: 5 }, (_, i) => total - 4 + i)]);
  const consumer = await bus.js.consumers.get(partitionStream(partition), partitionConsumer(partition));
  let delivered = 0;
  while (delivered < total) {
    // Exactly what is left, so that each pull request is done when it returns (a waiting one makes the replay wait for it).
    const batch = await consumer.fetch({ max_messages: Math.min(1_000, total - delivered), expires: 5_000 });
    for await (const msg of batch) {
      delivered += 1;
      if (!unacknowledged.has(msg.seq)) msg.ack();
    }
  }
  // Acks are not waited for: until the server has them all, more would be read back (which proves nothing).
  const settled = await eventually(
    async () => {
      const info = await bus.jsm.consumers.info(partitionStream(partition), partitionConsumer(partition));
      return info.num_ack_pending === unacknowledged.size ? info : undefined;
    },
    20_000,
    "the acks to reach the server",
  );
  expect({ floor: settled.ack_floor.stream_seq, delivered: settled.delivered.stream_seq }).toEqual({ floor: 0, delivered: total });

  const replayed: number[] = [];
  for await (const msg of natsAggregatorStores(bus).readings.unacknowledged(partition)) replayed.push(msg.seq);
  // The whole span in stream order: the owner cannot tell which of it were acknowledged.
  expect(replayed.filter((seq) => unacknowledged.has(seq))).toEqual([...unacknowledged]);
  expect(replayed).toEqual(Array.from({ length: total }, (_, i) => i + 1));
});

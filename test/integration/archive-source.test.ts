/**
 * The archiver's source on a real nats-server (src/nats/archive-readings.ts): what a waiting
 * reading keeps of its message, its settlement, acknowledges and hands back by the reply subject
 * alone (bench/README.md, row 22), as the message's own `ack()`/`nak()` would.
 */
import { afterEach, beforeEach, expect, it } from "vitest";
import type { Settlement } from "../../src/archive/ports.js";
import { type Bus, openBus } from "../../src/nats/bus.js";
import { natsArchiveSource } from "../../src/nats/archive-readings.js";
import { ensureTopology } from "../../src/nats/topology.js";
import { meterReadingSubject, partitionOf, partitionedSubject } from "../../src/wire/names.js";
import { eventually, startTestStack, type TestStack } from "../helpers/stack.js";

let stack: TestStack;
let bus: Bus;

beforeEach(async () => {
  stack = await startTestStack();
  bus = await openBus(stack.natsUrl, "test-archive-source");
  await ensureTopology(bus.jsm);
});

afterEach(async () => {
  await bus?.close();
  await stack?.stop();
});

it("settles by the reply subject alone: an acknowledged message never comes again, one handed back comes again after its delay", { timeout: 60_000 }, async () => {
  const partition = partitionOf("community1");
  const subject = partitionedSubject(meterReadingSubject("community1", "meter1"))!;
  const first = (await bus.js.publish(subject, "one")).seq;
  const second = (await bus.js.publish(subject, "two")).seq;
  const { source } = await natsArchiveSource(bus.nc, bus.jsm, [partition]);
  const deliveries: Array<{ seq: number; text: string; settlement: Settlement }> = [];
  const consumption = await source.consume(partition, (msg) => deliveries.push({ seq: msg.seq, text: msg.string(), settlement: msg.settlement() }));
  try {
    await eventually(async () => (deliveries.length >= 2 ? true : undefined), 10_000, "both messages");
    deliveries[0]!.settlement.ack();
    deliveries[1]!.settlement.nak(500);
    await eventually(async () => (deliveries.length >= 3 ? true : undefined), 10_000, "the message handed back to come again");
    expect(deliveries.map(({ seq, text }) => [seq, text])).toEqual([
      [first, "one"],
      [second, "two"],
      [second, "two"],
    ]);
    deliveries[2]!.settlement.ack();
    await eventually(async () => ((await source.ackFloor(partition)) === second ? true : undefined), 10_000, "the ack floor to reach both");
    // Nothing more is delivered: both acknowledgements were taken as such.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(deliveries).toHaveLength(3);
  } finally {
    await consumption.stop();
  }
});

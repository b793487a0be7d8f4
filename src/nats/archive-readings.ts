import { AckPolicy, DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { ARCHIVE_ACK_WAIT_MS, ARCHIVE_MAX_ACK_PENDING, archiveConsumer, partitionStream } from "../wire/names.js";
import { isNotFound } from "./not-found.js";
import { retryTimedOut } from "./topology.js";

/** How long a pull request lasts (as the aggregator's: a lost one is noticed soon). */
const PULL_EXPIRES_MS = 5_000;

/** Creates the archiver's consumer of a partition's stream when missing (from the stream's first reading); returns whether it did. */
async function ensureArchiveConsumer(jsm: JetStreamManager, partition: number): Promise<boolean> {
  const stream = partitionStream(partition);
  const name = archiveConsumer(partition);
  try {
    await jsm.consumers.info(stream, name);
    return false;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  await jsm.consumers.add(stream, {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(ARCHIVE_ACK_WAIT_MS),
    max_ack_pending: ARCHIVE_MAX_ACK_PENDING,
    max_deliver: -1,
  });
  return true;
}

/** The archiver's source (src/archive/ports.ts) on its durable pull consumers `archive-p<n>`; ensures them first. */
export async function natsArchiveSource(js: JetStreamClient, jsm: JetStreamManager, partitions: readonly number[]) {
  const created: string[] = [];
  for (const partition of partitions) if (await retryTimedOut(() => ensureArchiveConsumer(jsm, partition))) created.push(archiveConsumer(partition));
  return {
    created,
    source: {
      ackFloor: async (partition: number) => (await jsm.consumers.info(partitionStream(partition), archiveConsumer(partition))).ack_floor.stream_seq,
      async consume(partition: number, onMessage: (msg: JsMsg) => void) {
        const consumer = await js.consumers.get(partitionStream(partition), archiveConsumer(partition));
        const messages = await consumer.consume({ max_messages: 5_000, expires: PULL_EXPIRES_MS, callback: onMessage });
        return {
          async stop() {
            messages.stop();
            await messages.closed();
          },
        };
      },
    },
  };
}

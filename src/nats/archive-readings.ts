import { AckPolicy, DeliverPolicy, type JetStreamManager, type JsMsg, jetstream } from "@nats-io/jetstream";
import { type NatsConnection, nanos } from "@nats-io/transport-node";
import { ARCHIVE_ACK_WAIT_MS, ARCHIVE_MAX_ACK_PENDING, archiveConsumer, partitionStream } from "../wire/names.js";
import { isNotFound } from "./not-found.js";
import { retryTimedOut } from "./topology.js";

/** How long a pull request lasts (as the aggregator's: a lost one is noticed soon). */
const PULL_EXPIRES_MS = 5_000;
const ACK = new TextEncoder().encode("+ACK");

/**
 * Settles a JetStream message by its reply subject alone, as nats.js's own `ack()`/`nak()` do
 * (`+ACK`; `-NAK`, with `{"delay":<ns>}`): what a reading waiting for its segment keeps instead
 * of the whole message.
 */
class ReplySettlement {
  constructor(
    private readonly nc: NatsConnection,
    private readonly reply: string,
  ) {}
  ack(): void {
    this.nc.publish(this.reply, ACK);
  }
  nak(delayMs?: number): void {
    this.nc.publish(this.reply, delayMs ? `-NAK ${JSON.stringify({ delay: nanos(delayMs) })}` : "-NAK");
  }
}

/** A delivered message as the archiver sees it (`ArchiveMessage`, src/archive/ports.ts). */
class ArchiveDelivery {
  constructor(
    private readonly msg: JsMsg,
    private readonly nc: NatsConnection,
  ) {}
  get subject(): string {
    return this.msg.subject;
  }
  get seq(): number {
    return this.msg.seq;
  }
  string(): string {
    return this.msg.string();
  }
  ack(): void {
    this.msg.ack();
  }
  nak(delayMs?: number): void {
    this.msg.nak(delayMs);
  }
  /** By its reply subject (nats.js's message has one, not in its type); the message itself should it lack one. */
  settlement(): ReplySettlement | JsMsg {
    const { reply } = this.msg as JsMsg & { readonly reply?: string };
    return reply ? new ReplySettlement(this.nc, reply) : this.msg;
  }
}

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
export async function natsArchiveSource(nc: NatsConnection, jsm: JetStreamManager, partitions: readonly number[]) {
  const js = jetstream(nc);
  const created: string[] = [];
  for (const partition of partitions) if (await retryTimedOut(() => ensureArchiveConsumer(jsm, partition))) created.push(archiveConsumer(partition));
  return {
    created,
    source: {
      ackFloor: async (partition: number) => (await jsm.consumers.info(partitionStream(partition), archiveConsumer(partition))).ack_floor.stream_seq,
      async consume(partition: number, onMessage: (msg: ArchiveDelivery) => void) {
        const consumer = await js.consumers.get(partitionStream(partition), archiveConsumer(partition));
        const messages = await consumer.consume({ max_messages: 5_000, expires: PULL_EXPIRES_MS, callback: (msg) => onMessage(new ArchiveDelivery(msg, nc)) });
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

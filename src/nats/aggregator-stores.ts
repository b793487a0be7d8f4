import type { ConsumerInfo, ConsumerMessages, JsMsg, StoredMsg } from "@nats-io/jetstream";
import type { KvEntry } from "@nats-io/kv";
import {
  LATEST_BUCKET,
  LATEST_KEY_PREFIX,
  STATE_BUCKET,
  STRAYS_CONSUMER,
  STREAM,
  changeFeedSubject,
  deadLetterKind,
  deadLetterSubject,
  energyDayKey,
  energyFinalKey,
  latestKey,
  partitionConsumer,
  partitionStream,
} from "../wire/names.js";
import type { Bus } from "./bus.js";
import { kvKeys } from "./inspect.js";
import { kvEntries } from "./kv-entries.js";

/**
 * How long a pull request lasts; also sets how soon a lost one is noticed. nats.js re-pulls
 * after a reconnect or two missed heartbeats (every expires/2), and when that first look at the
 * consumer fails (its leader died with a node) it waits 0.5–1.5 × expires: with the default
 * 30 s a partition stood still for up to ~50 s.
 */
const PULL_EXPIRES_MS = 5_000;

/**
 * The consumer's state once the pull requests of a crashed owner have expired: until then the
 * server goes on delivering readings to its dead inbox, and those would be missed by a replay
 * read earlier (they come again only after the ack wait, too late for their place). Waits at most
 * a pull request's lifetime and a second.
 */
async function settledConsumerInfo(bus: Bus, stream: string, consumer: string): Promise<ConsumerInfo> {
  const deadline = Date.now() + PULL_EXPIRES_MS + 1_000;
  for (;;) {
    const info = await bus.jsm.consumers.info(stream, consumer);
    if (info.num_waiting === 0 || Date.now() >= deadline) return info;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A reading read back from the stream, shaped as a delivered one (the aggregator's ReadingMessage). */
interface ReplayedReading {
  readonly subject: string;
  readonly seq: number;
  readonly info: { readonly stream: string; readonly redelivered: boolean };
  readonly data: Uint8Array;
  string(): string;
  ack(): void;
  nak(): void;
}

/** A stored message as a reading delivered again: never acknowledged (the consumer delivers it again itself). */
function replayed(stream: string, msg: StoredMsg): ReplayedReading {
  return {
    subject: msg.subject,
    seq: msg.seq,
    info: { stream, redelivered: true },
    data: msg.data,
    string: () => new TextDecoder().decode(msg.data),
    ack: () => undefined,
    nak: () => undefined,
  };
}

const putValue = (entry: KvEntry | null): string | undefined => (entry?.operation === "PUT" ? entry.string() : undefined);

function consumption(messages: ConsumerMessages): { stop(): Promise<void> } {
  return {
    async stop() {
      messages.stop();
      await messages.closed();
    },
  };
}

/**
 * The aggregator's ports (src/aggregator/ports.ts) on NATS: its partitions' durable pull
 * consumers, `ec_agg_state`, `ec_latest`, `ec_energy`, the change feed and `EC_DLQ`.
 */
export function natsAggregatorStores(bus: Bus) {
  return {
    readings: {
      async consumePartition(partition: number, { maxMessages }: { readonly maxMessages: number }, onReading: (msg: JsMsg) => void) {
        const consumer = await bus.js.consumers.get(partitionStream(partition), partitionConsumer(partition));
        return consumption(await consumer.consume({ max_messages: maxMessages, expires: PULL_EXPIRES_MS, callback: onReading }));
      },
      async consumeStrays({ maxMessages }: { readonly maxMessages: number }, onReading: (msg: JsMsg) => void) {
        const consumer = await bus.js.consumers.get(STREAM, STRAYS_CONSUMER);
        return consumption(await consumer.consume({ max_messages: maxMessages, callback: onReading }));
      },
      /**
       * From the consumer's ack floor to the last it delivered, each read from the stream by its
       * sequence (deterministic: an ordered consumer's fetch may end early under load), 100 at a time,
       * handed on as they are read. The whole span, however long: at most MAX_ACK_PENDING of it are unacknowledged, but the ack
       * floor stays where a replayed reading is until the consumer delivers it again (after its ack
       * wait) to an owner that lives long enough to acknowledge it, so after a few quick crashes the
       * span holds tens of thousands of acknowledged readings with unacknowledged ones at its end. A
       * reading left out here comes back after the ack wait as a redelivered one older than its
       * meter's integration, taken for a duplicate: its energy would be lost (test/integration/exact-energy.test.ts).
       */
      async *unacknowledged(partition: number): AsyncGenerator<ReplayedReading> {
        const stream = partitionStream(partition);
        const { num_ack_pending: pending, ack_floor: floor, delivered } = await settledConsumerInfo(bus, stream, partitionConsumer(partition));
        if (!pending) return;
        for (let from = floor.stream_seq + 1; from <= delivered.stream_seq; from += 100) {
          const seqs = Array.from({ length: Math.min(100, delivered.stream_seq - from + 1) }, (_, i) => from + i);
          // A message gone (the stream's limits, or deleted) answers null: no reading to replay. Any other failure (a
          // timeout under load) fails the partition's start, tried again at the next rebalance: a reading skipped here would be lost.
          const stored = await Promise.all(seqs.map((seq) => bus.jsm.streams.getMessage(stream, { seq })));
          for (const msg of stored) if (msg) yield replayed(stream, msg);
        }
      },
      async forward(subject: string, data: Uint8Array, msgId: string) {
        await bus.js.publish(subject, data, { msgID: msgId });
      },
    },
    state: kvEntries(bus.jsm, STATE_BUCKET, bus.state),
    latest: {
      communities: async () => (await kvKeys(bus.jsm, LATEST_BUCKET)).filter((key) => key.startsWith(LATEST_KEY_PREFIX)).map((key) => key.slice(LATEST_KEY_PREFIX.length)),
      get: async (communityId: string) => putValue(await bus.latest.get(latestKey(communityId))),
      async put(communityId: string, json: string) {
        await bus.latest.put(latestKey(communityId), json);
      },
      /** One watch of the whole bucket: `community/*` would match nothing (`/` is no token separator). */
      async watch(onValue: (communityId: string, json: string) => void) {
        const watcher = await bus.latest.watch({ key: ">", ignoreDeletes: true });
        const done = (async () => {
          for await (const entry of watcher) {
            if (entry.operation === "PUT" && entry.key.startsWith(LATEST_KEY_PREFIX)) onValue(entry.key.slice(LATEST_KEY_PREFIX.length), entry.string());
          }
        })().catch(() => undefined);
        return {
          async stop() {
            watcher.stop();
            await done;
          },
        };
      },
    },
    energy: {
      get: async (communityId: string, dayStartMs: number) => putValue(await bus.energy.get(energyDayKey(communityId, dayStartMs))),
      async put(communityId: string, dayStartMs: number, record: string) {
        await bus.energy.put(energyDayKey(communityId, dayStartMs), record);
      },
      async putFinal(communityId: string, finalMs: number) {
        await bus.energy.put(energyFinalKey(communityId), JSON.stringify({ finalMs }));
      },
    },
    changes: {
      announce: (communityId: string, json: string) => bus.nc.publish(changeFeedSubject(communityId), json),
    },
    deadLetters: {
      /**
       * The stream and its sequence as message id: a retried dead letter is stored once. The
       * sequence alone is not unique: every partition stream (and EC_STREAM) numbers its messages
       * from 1, and a dead letter of one would be dropped as a duplicate of another's (issue 10).
       */
      store: (msg: { readonly seq: number; readonly info: { readonly stream: string } }, deadLetter: { readonly subject: string }) =>
        bus.js.publish(deadLetterSubject(deadLetterKind(deadLetter.subject)), JSON.stringify(deadLetter), { msgID: `dlq.${msg.info.stream}.${msg.seq}` }).then(
          () => true,
          () => false,
        ),
    },
  };
}

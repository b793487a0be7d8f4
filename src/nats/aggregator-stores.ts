import { type ConsumerMessages, DeliverPolicy, type JsMsg } from "@nats-io/jetstream";
import type { KV, KvEntry } from "@nats-io/kv";
import {
  DLQ_SUBJECT,
  LATEST_BUCKET,
  LATEST_KEY_PREFIX,
  STATE_BUCKET,
  STRAYS_CONSUMER,
  STREAM,
  changeFeedSubject,
  energyDayKey,
  energyFinalKey,
  latestKey,
  partitionConsumer,
  partitionStream,
} from "../wire/names.js";
import type { Bus } from "./bus.js";
import { kvKeys } from "./inspect.js";

/**
 * How long a pull request lasts; also sets how soon a lost one is noticed. nats.js re-pulls
 * after a reconnect or two missed heartbeats (every expires/2), and when that first look at the
 * consumer fails (its leader died with a node) it waits 0.5–1.5 × expires: with the default
 * 30 s a partition stood still for up to ~50 s.
 */
const PULL_EXPIRES_MS = 5_000;

/** Readings a partition's new owner reads back from the stream at most (its consumer hands out at most 2,000 unacknowledged). */
const MAX_REPLAYED = 20_000;

const putValue = (entry: KvEntry | null): string | undefined => (entry?.operation === "PUT" ? entry.string() : undefined);

function consumption(messages: ConsumerMessages): { stop(): Promise<void> } {
  return {
    async stop() {
      messages.stop();
      await messages.closed();
    },
  };
}

/** A KV bucket as the aggregator's state store: entries with revisions, keys listed from the stream's info. */
function stateStore(bus: Bus, kv: KV) {
  return {
    keys: (filter = ">") => kvKeys(bus.jsm, STATE_BUCKET, filter),
    async get(key: string) {
      const entry = await kv.get(key);
      return entry?.operation === "PUT" ? { value: entry.string(), revision: entry.revision } : undefined;
    },
    async put(key: string, value: string) {
      await kv.put(key, value);
    },
    create: (key: string, value: string) => kv.create(key, value),
    update: (key: string, value: string, revision: number) => kv.update(key, value, revision),
    delete: (key: string, previousRevision?: number) => kv.delete(key, previousRevision === undefined ? undefined : { previousSeq: previousRevision }),
    purge: (key: string) => kv.purge(key),
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
      /** From the consumer's ack floor to the last it delivered, through an ordered consumer on the stream. */
      async unacknowledged(partition: number): Promise<JsMsg[]> {
        const stream = partitionStream(partition);
        const { num_ack_pending: pending, ack_floor: floor, delivered } = await bus.jsm.consumers.info(stream, partitionConsumer(partition));
        if (!pending || delivered.stream_seq <= floor.stream_seq) return [];
        const ordered = await bus.js.consumers.get(stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor.stream_seq + 1 });
        const messages: JsMsg[] = [];
        // At most MAX_REPLAYED: a message stuck at the floor could make the span the whole stream (what is left out is counted late).
        const batch = await ordered.fetch({ max_messages: Math.min(delivered.stream_seq - floor.stream_seq, MAX_REPLAYED), expires: 5_000 });
        for await (const msg of batch) {
          messages.push(msg);
          if (msg.seq >= delivered.stream_seq) break;
        }
        return messages;
      },
      async forward(subject: string, data: Uint8Array, msgId: string) {
        await bus.js.publish(subject, data, { msgID: msgId });
      },
    },
    state: stateStore(bus, bus.state),
    latest: {
      communities: async () => (await kvKeys(bus.jsm, LATEST_BUCKET)).filter((key) => key.startsWith(LATEST_KEY_PREFIX)).map((key) => key.slice(LATEST_KEY_PREFIX.length)),
      get: async (communityId: string) => putValue(await bus.latest.get(latestKey(communityId))),
      async put(communityId: string, json: string) {
        await bus.latest.put(latestKey(communityId), json);
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
      store: (msg: { readonly seq: number; readonly info: { readonly stream: string } }, deadLetter: object) =>
        bus.js.publish(DLQ_SUBJECT, JSON.stringify(deadLetter), { msgID: `dlq.${msg.info.stream}.${msg.seq}` }).then(
          () => true,
          () => false,
        ),
    },
  };
}

import type { JetStreamManager } from "@nats-io/jetstream";
import { type ForeignConsumer, isEcwatchConsumer } from "../wire/foreign-consumers.js";
import { AGGREGATOR_CONSUMERS, DLQ_STREAM, KV_BUCKETS, type KvBucket, READING_STREAMS, kvStreamName } from "../wire/names.js";
import { isNotFound } from "./not-found.js";

/**
 * The keys of a KV bucket matching `filter`, from its stream's info: one request with a
 * timeout, where `kv.keys()` reads through an ordered consumer that was seen to stall for a
 * minute after a node of a cluster was lost (test/faults/nats-node.test.ts). A deleted key may
 * be listed (its delete marker): read each with `get()`.
 */
export async function kvKeys(jsm: JetStreamManager, bucket: KvBucket, filter = ">"): Promise<string[]> {
  const prefix = `$KV.${bucket}.`;
  const info = await jsm.streams.info(kvStreamName(bucket), { subjects_filter: `${prefix}${filter}` });
  return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
}

/** Readings the aggregator's consumers have yet to deliver or to have acknowledged: 0 once it has caught up. */
export async function aggregatorBacklog(jsm: JetStreamManager): Promise<number> {
  return (await aggregatorLag(jsm)).reduce((sum, { lag }) => sum + lag, 0);
}

/** Per aggregator consumer, what it has yet to process: pending delivery plus delivered but unacknowledged. */
export async function aggregatorLag(jsm: JetStreamManager): Promise<Array<{ readonly name: string; readonly partition?: number; readonly lag: number }>> {
  return Promise.all(
    AGGREGATOR_CONSUMERS.map(async ({ stream, name, partition }) => {
      const info = await jsm.consumers.info(stream, name);
      return { name, partition, lag: info.num_pending + info.num_ack_pending };
    }),
  );
}

/** Readings stored so far, in all reading streams together (each stream's last sequence). */
export async function readingsStored(jsm: JetStreamManager): Promise<number> {
  const streams = await Promise.all(READING_STREAMS.map((name) => jsm.streams.info(name)));
  return streams.reduce((sum, stream) => sum + stream.state.last_seq, 0);
}

/** Deletes the reading streams, the DLQ and the KV buckets (`ecwatch reset`, `up --fresh`). */
export async function wipeTopology(jsm: JetStreamManager): Promise<void> {
  for (const name of [...READING_STREAMS, DLQ_STREAM, ...KV_BUCKETS.map(kvStreamName)]) {
    try {
      await jsm.streams.delete(name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

/**
 * The durable consumers of the reading streams that are not ecwatch's aggregator's (issue 18):
 * another aggregator reading them, such as the prototype's `agg-worker`. Ephemeral ones (a
 * `nats stream view`, an ordered consumer) are not listed; a missing stream has none.
 */
export async function foreignConsumers(jsm: JetStreamManager): Promise<ForeignConsumer[]> {
  const found = await Promise.all(
    READING_STREAMS.map(async (stream) => {
      try {
        const infos = await jsm.consumers.list(stream).next();
        return infos
          .filter(({ name, config }) => config.durable_name !== undefined && !isEcwatchConsumer(stream, name))
          .map(({ name, config }) => ({ stream, name, push: !!config.deliver_subject, deliverPolicy: String(config.deliver_policy) }));
      } catch (err) {
        if (isNotFound(err)) return [];
        throw err;
      }
    }),
  );
  return found.flat();
}

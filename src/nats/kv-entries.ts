import { jetstream, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { KvBucket } from "../wire/names.js";
import { clusterReplicas } from "./connect.js";
import { kvKeys } from "./inspect.js";
import { retryTimedOut } from "./topology.js";

/**
 * A KV bucket as entries with revisions (what the leases of src/leases/ and the aggregator's
 * state store need): compare-and-set by revision, keys listed from the stream's info.
 */
export function kvEntries(jsm: JetStreamManager, bucket: KvBucket, kv: KV) {
  return {
    keys: (filter = ">") => kvKeys(jsm, bucket, filter),
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

/** Opens `bucket` (creating it when missing, with as many replicas as `nc`'s cluster allows) as entries with revisions. */
export async function openKvEntries(nc: NatsConnection, jsm: JetStreamManager, bucket: KvBucket) {
  const kv = await retryTimedOut(() => new Kvm(jetstream(nc)).create(bucket, { history: 1, replicas: clusterReplicas(nc) }));
  return kvEntries(jsm, bucket, kv);
}

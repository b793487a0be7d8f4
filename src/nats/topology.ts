import { millis, nanos, TimeoutError } from "@nats-io/transport-node";
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";
import { formatDuration } from "../domain/duration.js";
import {
  AGGREGATOR_CONSUMERS,
  CONSUMER_ACK_WAIT_MS,
  DLQ_STREAM,
  DLQ_SUBJECTS,
  PARTITIONS,
  PROTOTYPE_CONSUMER,
  STRAYS_CONSUMER,
  STREAM,
  STREAM_SUBJECTS,
  partitionStream,
  partitionStreamSubjects,
} from "../wire/names.js";
import { isNotFound } from "./not-found.js";

/** Retention limits of EC_STREAM; the prototype's stream had none. */
export interface RetentionOptions {
  /** Oldest reading kept. Default 7 days. */
  readonly maxAgeMs: number;
  /** Largest size of the stream. Default 1 GiB. */
  readonly maxBytes: number;
}

export const DEFAULT_RETENTION: RetentionOptions = { maxAgeMs: 7 * 86_400_000, maxBytes: 1024 ** 3 };
/** Window within which JetStream drops a reading whose Nats-Msg-Id it has seen: a publisher's retries must fit in it. */
export const DUPLICATE_WINDOW_MS = 2 * 60_000;

/** Attempts of a step that creates streams, buckets or consumers, when each times out. */
const TOPOLOGY_ATTEMPTS = 5;

/**
 * Runs `step` again when its JetStream request times out. On a cluster under load, creating a
 * replicated stream or consumer (a new raft group, elected and written to disk) can outlast the
 * request's 5 s and still take effect (seen in CI: test/faults/nats-node.test.ts). Each such step
 * finds what a timed-out attempt created: it looks first (ensureStream, ensureConsumers), or
 * JetStream accepts the same configuration again (a KV bucket's stream).
 */
export async function retryTimedOut<T>(step: () => Promise<T>, attempts = TOPOLOGY_ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await step();
    } catch (err) {
      if (!(err instanceof TimeoutError) || attempt >= attempts) throw err;
    }
  }
}

function sameSubjects(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return !!a && a.length === b.length && [...a].sort().join() === [...b].sort().join();
}

const CREATED_STREAM = "created stream ";

/** Creates the stream when missing; with `update`, also brings an existing one in line. */
async function ensureStream(
  jsm: JetStreamManager,
  wanted: Partial<StreamConfig> & { name: string; subjects: string[] },
  update: boolean,
): Promise<string[]> {
  let current: StreamConfig;
  try {
    current = (await jsm.streams.info(wanted.name)).config;
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await jsm.streams.add(wanted);
    return [`${CREATED_STREAM}${wanted.name}`];
  }
  if (!update) return [];
  const changes: string[] = [];
  if (!sameSubjects(current.subjects, wanted.subjects)) {
    changes.push(`stream ${wanted.name}: subjects ${JSON.stringify(current.subjects)} → ${JSON.stringify(wanted.subjects)}`);
  }
  const age = (value: number): string => (value > 0 ? formatDuration(millis(value)) : "unlimited");
  if (wanted.max_age !== undefined && current.max_age !== wanted.max_age) {
    changes.push(`stream ${wanted.name}: max_age ${age(current.max_age)} → ${age(wanted.max_age)}`);
  }
  if (wanted.max_bytes !== undefined && current.max_bytes !== wanted.max_bytes) {
    changes.push(`stream ${wanted.name}: max_bytes ${current.max_bytes} → ${wanted.max_bytes}`);
  }
  if (wanted.max_msgs !== undefined && current.max_msgs !== wanted.max_msgs) {
    changes.push(`stream ${wanted.name}: max_msgs ${current.max_msgs} → ${wanted.max_msgs}`);
  }
  // Replicas only at creation: scaling an existing stream up (R1 → R3) is the operator's call.
  if (changes.length) await jsm.streams.update(wanted.name, { ...current, ...wanted, num_replicas: current.num_replicas });
  return changes;
}

/**
 * Creates EC_STREAM, the partition streams, EC_DLQ and the aggregator's durable pull
 * consumers when missing. Given `retention` (by the aggregator, their owner), it also brings
 * existing ones, e.g. the prototype's, in line; without it (sim, serve) it leaves existing
 * ones as they are, so they cannot undo the aggregator's settings. New streams get
 * `replicas` (see clusterReplicas, default 1). Returns what it changed, for the user.
 */
export async function ensureTopology(jsm: JetStreamManager, retention?: RetentionOptions, replicas = 1): Promise<string[]> {
  const update = retention !== undefined;
  const limits = retention ?? DEFAULT_RETENTION;
  const readings = {
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(limits.maxAgeMs),
    duplicate_window: nanos(Math.min(DUPLICATE_WINDOW_MS, limits.maxAgeMs)),
    num_replicas: replicas,
  };
  // EC_STREAM keeps the whole limit (a prototype's backlog may fill it); the partitions share it.
  const stream = { ...readings, name: STREAM, subjects: [...STREAM_SUBJECTS], max_bytes: limits.maxBytes };
  const partitions = Array.from({ length: PARTITIONS }, (_, partition) => ({
    ...readings,
    name: partitionStream(partition),
    subjects: partitionStreamSubjects(partition),
    max_bytes: Math.floor(limits.maxBytes / PARTITIONS),
  }));
  const deadLetters = { name: DLQ_STREAM, subjects: [...DLQ_SUBJECTS], storage: StorageType.File, max_msgs: 10_000, max_age: nanos(7 * 86_400_000), num_replicas: replicas };
  const partitionChanges = (await Promise.all(partitions.map((partition) => retryTimedOut(() => ensureStream(jsm, partition, update))))).flat();
  const created = partitionChanges.filter((change) => change.startsWith(CREATED_STREAM));
  // EC_DLQ before EC_STREAM: an EC_DLQ of before issue 18 holds `ec.dlq`, which EC_STREAM's `ec.>`
  // would overlap (JetStream refuses overlapping subjects), so it moves first.
  const deadLetterChanges = await retryTimedOut(() => ensureStream(jsm, deadLetters, update));
  return [
    ...(await retryTimedOut(() => ensureStream(jsm, stream, update))),
    ...(created.length ? [`created streams ${created.map((change) => change.slice(CREATED_STREAM.length)).join(", ")}`] : []),
    ...partitionChanges.filter((change) => !change.startsWith(CREATED_STREAM)),
    ...deadLetterChanges,
    ...(await retryTimedOut(() => ensureConsumers(jsm, update))),
  ];
}

/** Why an existing consumer cannot serve the aggregator, or undefined when it can. */
function incompatibility(config: ConsumerConfig): string | undefined {
  if (config.deliver_subject) return "a push consumer";
  if (config.ack_policy !== AckPolicy.Explicit) return `ack policy ${config.ack_policy}`;
  if (config.filter_subject || config.filter_subjects?.length) return "it filters subjects";
  return undefined;
}

/** Deletes a consumer; one already gone is no error (a delete that timed out may land before it is retried). */
async function deleteConsumer(jsm: JetStreamManager, stream: string, name: string): Promise<void> {
  try {
    await jsm.consumers.delete(stream, name);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

async function consumerInfo(jsm: JetStreamManager, stream: string, name: string): Promise<ConsumerConfig | undefined> {
  try {
    return (await jsm.consumers.info(stream, name)).config;
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return undefined;
  }
}

/**
 * Messages a consumer hands out before the aggregator acknowledges them: it applies what
 * arrives at once and holds it until stored, so this bounds its memory (20,000 a partition let
 * batches reach ~10,000 readings and the aggregator ~400 MB with 100,000 meters; 2,000: ~230 MB,
 * as fast — `npm run bench:aggregator-memory`).
 */
export const MAX_ACK_PENDING = 2_000;

async function ensureConsumers(jsm: JetStreamManager, update: boolean): Promise<string[]> {
  const changes: string[] = [];
  if (update && (await consumerInfo(jsm, STREAM, PROTOTYPE_CONSUMER))) {
    // The prototype's single consumer; what it has not delivered is read again through
    // agg-strays, which replays the stream once: safe, the aggregator is idempotent.
    await deleteConsumer(jsm, STREAM, PROTOTYPE_CONSUMER);
    changes.push(`removed the prototype's consumer ${PROTOTYPE_CONSUMER}: ecwatch reads ${STREAM} through ${STRAYS_CONSUMER} (replays the stream once) and each partition through its own`);
  }
  const created: string[] = [];
  for (const { stream, name } of AGGREGATOR_CONSUMERS) {
    const current = await consumerInfo(jsm, stream, name);
    const why = current && incompatibility(current);
    if (current && !why && update && current.max_ack_pending !== MAX_ACK_PENDING) {
      await jsm.consumers.update(stream, name, { max_ack_pending: MAX_ACK_PENDING });
      changes.push(`set max_ack_pending of consumer ${name} to ${MAX_ACK_PENDING}`);
    }
    if (current && (!why || !update)) continue;
    // These cannot be changed in place; replaying is safe (see above).
    if (why) {
      await deleteConsumer(jsm, stream, name);
      changes.push(`replaced consumer ${name} of ${stream} (${why}) with a pull consumer that acknowledges each message`);
    } else created.push(name);
    await jsm.consumers.add(stream, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      // What a crashed aggregator had received comes to the partition's next owner after this long.
      ack_wait: nanos(CONSUMER_ACK_WAIT_MS),
      max_ack_pending: MAX_ACK_PENDING,
      max_deliver: -1,
    });
  }
  if (created.length) changes.push(`created consumer${created.length > 1 ? "s" : ""} ${created.join(", ")}`);
  return changes;
}

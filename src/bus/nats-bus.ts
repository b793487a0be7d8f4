import { connect, millis, nanos, type NatsConnection } from "@nats-io/transport-node";
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { formatDuration } from "../domain/duration.js";
import { EcwatchError, errorMessage } from "../errors.js";
import { redactUrl } from "../url.js";
import { CONSUMER, DLQ_STREAM, DLQ_SUBJECT, LATEST_BUCKET, STATE_BUCKET, STREAM, STREAM_SUBJECTS } from "./names.js";

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

export interface Bus {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly latest: KV;
  readonly state: KV;
  close(): Promise<void>;
}

/** Connects to NATS; one clear sentence when nothing answers. */
export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  try {
    return await connect({ servers: url.split(","), name, timeout: 5_000, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
  } catch (err) {
    throw new EcwatchError("NATS_UNREACHABLE", `Cannot connect to NATS at ${redactUrl(url)} (${errorMessage(err)}).`, {
      hint: "Start the stack with `ecwatch up`, or pass --nats <url> / set NATS_URL.",
      cause: err,
    });
  }
}

/** Connects and opens the JetStream contexts and KV buckets (creating them when missing). */
export async function openBus(url: string, name: string): Promise<Bus> {
  const nc = await connectNats(url, name);
  try {
    const jsm = await jetstreamManager(nc).catch((err: unknown) => {
      throw new EcwatchError("JETSTREAM_UNAVAILABLE", `NATS at ${redactUrl(url)} does not offer JetStream.`, {
        hint: "Start nats-server with -js (ecwatch up does), or run `ecwatch doctor`.",
        cause: err,
      });
    });
    const js = jetstream(nc);
    const kvm = new Kvm(js);
    const [latest, state] = await Promise.all([kvm.create(LATEST_BUCKET, { history: 1 }), kvm.create(STATE_BUCKET, { history: 1 })]).catch(
      (err: unknown) => {
        throw new EcwatchError("KV_UNAVAILABLE", `Cannot open the KV buckets ${LATEST_BUCKET} and ${STATE_BUCKET}: ${errorMessage(err)}.`, {
          hint: "Check the JetStream limits of the account (`ecwatch doctor`).",
          cause: err,
        });
      },
    );
    return { nc, js, jsm, latest, state, close: () => nc.drain() };
  } catch (err) {
    await nc.close();
    throw err;
  }
}

function isNotFound(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamNotFound || err.code === JetStreamApiCodes.ConsumerNotFound)
  );
}

function sameSubjects(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return !!a && a.length === b.length && [...a].sort().join() === [...b].sort().join();
}

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
    return [`created stream ${wanted.name}`];
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
  if (changes.length) await jsm.streams.update(wanted.name, { ...current, ...wanted });
  return changes;
}

/**
 * Creates EC_STREAM, EC_DLQ and the durable pull consumer `agg-worker` when missing.
 * Given `retention` (by the aggregator, their owner), it also brings existing ones, e.g. the
 * prototype's, in line; without it (sim, serve) it leaves existing ones as they are, so they
 * cannot undo the aggregator's settings. Returns what it changed, for the user.
 */
export async function ensureTopology(jsm: JetStreamManager, retention?: RetentionOptions): Promise<string[]> {
  const update = retention !== undefined;
  const limits = retention ?? DEFAULT_RETENTION;
  const stream = {
    name: STREAM,
    subjects: [...STREAM_SUBJECTS],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(limits.maxAgeMs),
    max_bytes: limits.maxBytes,
    duplicate_window: nanos(Math.min(DUPLICATE_WINDOW_MS, limits.maxAgeMs)),
  };
  const deadLetters = { name: DLQ_STREAM, subjects: [DLQ_SUBJECT], storage: StorageType.File, max_msgs: 10_000, max_age: nanos(7 * 86_400_000) };
  return [
    ...(await ensureStream(jsm, stream, update)),
    ...(await ensureStream(jsm, deadLetters, update)),
    ...(await ensureConsumer(jsm, update)),
  ];
}

/** Why an existing `agg-worker` cannot serve the aggregator, or undefined when it can. */
function incompatibility(config: ConsumerConfig): string | undefined {
  if (config.deliver_subject) return "a push consumer";
  if (config.ack_policy !== AckPolicy.Explicit) return `ack policy ${config.ack_policy}`;
  if (config.filter_subject || config.filter_subjects?.length) return "it filters subjects";
  return undefined;
}

async function ensureConsumer(jsm: JetStreamManager, update: boolean): Promise<string[]> {
  const changes: string[] = [];
  try {
    const info = await jsm.consumers.info(STREAM, CONSUMER);
    const why = incompatibility(info.config);
    if (!why || !update) return [];
    // These cannot be changed in place (the prototype's was a push consumer). Replaying
    // the stream from the start is safe: the aggregator is idempotent.
    await jsm.consumers.delete(STREAM, CONSUMER);
    changes.push(`replaced consumer ${CONSUMER} (${why}) with a pull consumer that acknowledges each message (replays the stream once)`);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    changes.push(`created consumer ${CONSUMER}`);
  }
  await jsm.consumers.add(STREAM, {
    durable_name: CONSUMER,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(30_000),
    max_ack_pending: 20_000,
    max_deliver: -1,
  });
  return changes;
}

/** Deletes the stream, the DLQ and both KV buckets (`ecwatch reset`, `up --fresh`). */
export async function wipeTopology(jsm: JetStreamManager): Promise<void> {
  for (const name of [STREAM, DLQ_STREAM, `KV_${LATEST_BUCKET}`, `KV_${STATE_BUCKET}`]) {
    try {
      await jsm.streams.delete(name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

import { readFileSync } from "node:fs";
import { type Authenticator, connect, credsAuthenticator, millis, nanos, type NatsConnection, nkeyAuthenticator, TimeoutError } from "@nats-io/transport-node";
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
import { type ConnectFailure, connectFailure } from "../connect-failure.js";
import { EcwatchError, errorMessage, UsageError } from "../errors.js";
import { redactUrl } from "../url.js";
import { type NatsSecurity, natsKeyFile, natsServers } from "./nats-auth.js";
import {
  AGGREGATOR_CONSUMERS,
  DLQ_STREAM,
  DLQ_SUBJECT,
  ENERGY_BUCKET,
  LATEST_BUCKET,
  PARTITIONS,
  PROTOTYPE_CONSUMER,
  READING_STREAMS,
  STATE_BUCKET,
  STRAYS_CONSUMER,
  STREAM,
  STREAM_SUBJECTS,
  partitionStream,
  partitionStreamSubjects,
} from "../wire/names.js";

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
  /** Energy per community and UTC day (ENERGY_BUCKET). */
  readonly energy: KV;
  close(): Promise<void>;
}

/** Reads a file named by a flag or its variable; one sentence naming both when it cannot. */
function readSecurityFile(file: string, what: string, flag: string, env: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`Cannot read the ${what} ${file} (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}).`, `Check ${flag} / ${env}.`);
  }
}

/** The authenticator of a `--nats-creds` file: a `.creds` file (JWT and seed) or an nkey seed file. */
function fileAuthenticator(file: string): Authenticator {
  const text = readSecurityFile(file, "NATS credentials file", "--nats-creds", "NATS_CREDS");
  const key = natsKeyFile(text);
  if (!key) throw new UsageError(`The NATS credentials file ${file} holds neither a user JWT (a .creds file) nor a user nkey seed (SU…).`, "Pass the file nsc generated for the user with --nats-creds / NATS_CREDS.");
  return key.kind === "creds" ? credsAuthenticator(new TextEncoder().encode(text)) : nkeyAuthenticator(new TextEncoder().encode(key.seed));
}

/** The fix for each way a connection fails (issue 10). */
const NATS_HINTS: Record<ConnectFailure, { code: string; hint: string }> = {
  auth: { code: "NATS_AUTH_FAILED", hint: "Check the user and password (nats://user:pass@host) or token (nats://token@host) in the URL, or the file of --nats-creds / NATS_CREDS." },
  tls: { code: "NATS_TLS_FAILED", hint: "Pass the CA of the server's certificate with --nats-tls-ca <file> / NATS_TLS_CA, use the name or address the certificate is for, and tls:// only for a server with TLS." },
  unreachable: { code: "NATS_UNREACHABLE", hint: "Start the stack with `ecwatch up`, or pass --nats <url> / set NATS_URL." },
};

/**
 * Connects to NATS with the URL's credentials (`user:pass@`, `token@`), a creds or nkey seed
 * file, and TLS (`tls://` or a CA file); one clear sentence when that fails, never a secret.
 */
export async function connectNats(url: string, name: string, security: NatsSecurity = {}): Promise<NatsConnection> {
  const { servers, user, pass, token, tls } = natsServers(url);
  const authenticator = security.credsFile ? fileAuthenticator(security.credsFile) : undefined;
  const ca = security.tlsCaFile ? readSecurityFile(security.tlsCaFile, "NATS CA file", "--nats-tls-ca", "NATS_TLS_CA") : undefined;
  try {
    return await connect({
      servers: [...servers],
      name,
      timeout: 5_000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      // nats.js otherwise builds an Error (a stack trace) for every request in case it fails,
      // ≈ 5 % of the aggregator's CPU in its KV puts; ecwatch reports failures by message.
      noAsyncTraces: true,
      ...(user !== undefined && { user, pass }),
      ...(token !== undefined && { token }),
      ...(authenticator && { authenticator }),
      // An object asks for TLS: nats.js then refuses a server without it, so credentials never go in the clear.
      ...((tls || ca) && { tls: ca ? { ca } : {} }),
    });
  } catch (err) {
    const { code, hint } = NATS_HINTS[connectFailure(err)];
    throw new EcwatchError(code, `Cannot connect to NATS at ${redactUrl(url)} (${errorMessage(err)}).`, { hint, cause: err });
  }
}

/**
 * Replicas for the streams and KV buckets ecwatch creates: 3 on a cluster of 3 or more servers,
 * as many as there are on a smaller one (issue 9). A server of a cluster lists the client URLs of
 * all its members in its INFO (`connect_urls`, itself included); a single server lists none.
 */
export function clusterReplicas(nc: NatsConnection): number {
  return Math.min(3, Math.max(1, nc.info?.connect_urls?.length ?? 1));
}

/** Connects and opens the JetStream contexts and KV buckets (creating them when missing). */
export async function openBus(url: string, name: string, security: NatsSecurity = {}): Promise<Bus> {
  const nc = await connectNats(url, name, security);
  try {
    const jsm = await jetstreamManager(nc).catch((err: unknown) => {
      throw new EcwatchError("JETSTREAM_UNAVAILABLE", `NATS at ${redactUrl(url)} does not offer JetStream.`, {
        hint: "Start nats-server with -js (ecwatch up does), or run `ecwatch doctor`.",
        cause: err,
      });
    });
    const js = jetstream(nc);
    const kvm = new Kvm(js);
    const replicas = clusterReplicas(nc);
    const [latest, state, energy] = await Promise.all([
      retryTimedOut(() => kvm.create(LATEST_BUCKET, { history: 1, replicas })),
      retryTimedOut(() => kvm.create(STATE_BUCKET, { history: 1, replicas })),
      retryTimedOut(() => kvm.create(ENERGY_BUCKET, { history: 1, replicas })),
    ]).catch(
      (err: unknown) => {
        throw new EcwatchError("KV_UNAVAILABLE", `Cannot open the KV buckets ${LATEST_BUCKET}, ${STATE_BUCKET} and ${ENERGY_BUCKET}: ${errorMessage(err)}.`, {
          hint: "Check the JetStream limits of the account (`ecwatch doctor`).",
          cause: err,
        });
      },
    );
    return { nc, js, jsm, latest, state, energy, close: () => nc.drain() };
  } catch (err) {
    await nc.close();
    throw err;
  }
}

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

function isNotFound(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamNotFound || err.code === JetStreamApiCodes.ConsumerNotFound)
  );
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
  const deadLetters = { name: DLQ_STREAM, subjects: [DLQ_SUBJECT], storage: StorageType.File, max_msgs: 10_000, max_age: nanos(7 * 86_400_000), num_replicas: replicas };
  const partitionChanges = (await Promise.all(partitions.map((partition) => retryTimedOut(() => ensureStream(jsm, partition, update))))).flat();
  const created = partitionChanges.filter((change) => change.startsWith(CREATED_STREAM));
  return [
    ...(await retryTimedOut(() => ensureStream(jsm, stream, update))),
    ...(created.length ? [`created streams ${created.map((change) => change.slice(CREATED_STREAM.length)).join(", ")}`] : []),
    ...partitionChanges.filter((change) => !change.startsWith(CREATED_STREAM)),
    ...(await retryTimedOut(() => ensureStream(jsm, deadLetters, update))),
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
      ack_wait: nanos(10_000),
      max_ack_pending: MAX_ACK_PENDING,
      max_deliver: -1,
    });
  }
  if (created.length) changes.push(`created consumer${created.length > 1 ? "s" : ""} ${created.join(", ")}`);
  return changes;
}

/**
 * The keys of a KV bucket matching `filter`, from its stream's info: one request with a
 * timeout, where `kv.keys()` reads through an ordered consumer that was seen to stall for a
 * minute after a node of a cluster was lost (test/faults/nats-node.test.ts). A deleted key may
 * be listed (its delete marker): read each with `get()`.
 */
export async function kvKeys(jsm: JetStreamManager, bucket: string, filter = ">"): Promise<string[]> {
  const prefix = `$KV.${bucket}.`;
  const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${prefix}${filter}` });
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

/** Deletes the reading streams, the DLQ and both KV buckets (`ecwatch reset`, `up --fresh`). */
export async function wipeTopology(jsm: JetStreamManager): Promise<void> {
  for (const name of [...READING_STREAMS, DLQ_STREAM, `KV_${LATEST_BUCKET}`, `KV_${STATE_BUCKET}`, `KV_${ENERGY_BUCKET}`]) {
    try {
      await jsm.streams.delete(name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

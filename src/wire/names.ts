import { hashString } from "../domain/hash.js";

/**
 * Every name on the wire, defined once. The stream, consumer, bucket and key names are
 * the reference prototype's, so its clients keep working.
 */
export const STREAM = "EC_STREAM";
/** The prototype's consumer; ecwatch reads through one consumer per partition instead (`partitionConsumer`). */
export const PROTOTYPE_CONSUMER = "agg-worker";
export const LATEST_BUCKET = "ec_latest";
/** Per-meter aggregator state, one key per community, so a restarted aggregator is exact. */
export const STATE_BUCKET = "ec_agg_state";
/** Energy per community and UTC day, one key `<communityId>.<YYYY-MM-DD>` (src/energy/day-record.ts). */
export const ENERGY_BUCKET = "ec_energy";
export const energyDayKey = (communityId: string, dayStartMs: number): string => `${communityId}.${new Date(dayStartMs).toISOString().slice(0, 10)}`;
/** The data time before which a community's stored energy is final: `{"finalMs": …}` (issue 17). */
export const energyFinalKey = (communityId: string): string => `${communityId}.final`;
/** ecwatch's three KV buckets, in one place for opening and wiping them. */
export const KV_BUCKETS = [LATEST_BUCKET, STATE_BUCKET, ENERGY_BUCKET] as const;
/**
 * The archivers' leases and members (issue 22): their own bucket, so that an archiver never
 * takes an aggregator's partition. Not among KV_BUCKETS: only the archivers open it, and a
 * reset leaves it (it holds nothing but leases, which lapse).
 */
export const ARCHIVE_STATE_BUCKET = "ec_archive_state";
export type KvBucket = (typeof KV_BUCKETS)[number] | typeof ARCHIVE_STATE_BUCKET;
/** The stream under a KV bucket. */
export const kvStreamName = (bucket: KvBucket): string => `KV_${bucket}`;
export const DLQ_STREAM = "EC_DLQ";

/**
 * Why a message is a dead letter, as the last token of its subject in EC_DLQ (`ecdlq.<kind>`), so
 * that `doctor` counts each kind from the stream's info without reading the messages:
 * `subject` — its subject is not a reading subject (e.g. an MQTT topic under `ec/` with a level
 * too many); `reading` — on a reading subject, but not a reading ecwatch can aggregate
 * (malformed, too large, in the wrong partition).
 */
export const DEAD_LETTER_KINDS = ["subject", "reading"] as const;
export type DeadLetterKind = (typeof DEAD_LETTER_KINDS)[number];
/** Outside `ec.`, which EC_STREAM stores whole (issue 18). */
const DLQ_SUBJECT_PREFIX = "ecdlq";
export const DLQ_SUBJECTS = [`${DLQ_SUBJECT_PREFIX}.>`] as const;
export const deadLetterSubject = (kind: DeadLetterKind): string => `${DLQ_SUBJECT_PREFIX}.${kind}`;
/** The kind of a dead letter of a message that arrived on `subject`. */
export const deadLetterKind = (subject: string): DeadLetterKind => (parseReadingSubject(subject) ? "reading" : "subject");

/**
 * The subjects EC_STREAM holds: everything under `ec.`, so that whatever nats-server accepts
 * there (an MQTT device's PUBACK is the server's, not ecwatch's) is stored — a reading, or a
 * dead letter with its reason (issue 18); and `/.ec.>`, where an MQTT topic with a leading `/`
 * (`/ec/…`) lands. With ecwatch's mappings in nats-server's config, readings go to the
 * partition streams instead (`partitionStream`) and EC_STREAM holds only what arrived
 * unpartitioned. ecwatch's own subjects (the change feed, the dead letters) are outside `ec.`.
 */
export const STREAM_SUBJECTS = ["ec.>", "/.ec.>"] as const;

export const communityReadingSubject = (communityId: string): string => `ec.${communityId}.net`;
export const meterReadingSubject = (communityId: string, meterId: string): string => `ec.${communityId}.meter.${meterId}`;
/** Core NATS change feed of a community's aggregate: outside `ec.`, so not stored in the stream. */
export const changeFeedSubject = (communityId: string): string => `ecagg.${communityId}`;
export const latestKey = (communityId: string): string => `community/${communityId}`;
export const LATEST_KEY_PREFIX = "community/";
/** The dedup id without its seq, for a publisher that builds many of one meter. */
export const dedupIdHead = (communityId: string, meterId: string): string => `${communityId}.${meterId}.`;
export const dedupId = (communityId: string, meterId: string, seq: number): string => `${dedupIdHead(communityId, meterId)}${seq}`;

/** What a subject of EC_STREAM says about its reading, or undefined for a subject outside it. */
export type ReadingSubject = (
  | { readonly level: "community"; readonly communityId: string }
  | { readonly level: "meter"; readonly communityId: string; readonly meterId: string }
) & {
  /** The partition nats-server's mapping put it in; absent on a subject as published. */
  readonly partition?: number;
};

const PARTITION_TOKEN = /^(0|[1-9][0-9]{0,3})$/;

export function parseReadingSubject(subject: string): ReadingSubject | undefined {
  const tokens = subject.split(".");
  // `ecp.<p>.<c>.…` reads as `ec.<c>.…` from the token before `<c>` on.
  let partition: number | undefined;
  let at = 0;
  if (tokens[0] === PARTITIONED_SUBJECT_PREFIX) {
    if (!PARTITION_TOKEN.test(tokens[1] ?? "")) return undefined;
    partition = Number(tokens[1]);
    at = 1;
  } else if (tokens[0] !== "ec") return undefined;
  const communityId = tokens[at + 1];
  if (!communityId) return undefined;
  const length = tokens.length - at;
  const inPartition = partition === undefined ? {} : { partition };
  if (length === 3 && tokens[at + 2] === "net") return { level: "community", communityId, ...inPartition };
  const meterId = tokens[at + 3];
  if (length === 4 && tokens[at + 2] === "meter" && meterId) return { level: "meter", communityId, meterId, ...inPartition };
  return undefined;
}

/** The MQTT topic of a reading subject (`ec/<c>/meter/<m>`): nats-server's MQTT listener maps `/` back to `.`. */
export const mqttTopicOf = (subject: string): string => subject.replaceAll(".", "/");

/**
 * Communities are spread over this many partitions, each a stream of its own
 * (`EC_STREAM_P<n>`), read by its own durable consumer and owned by one aggregator at a time.
 * nats-server assigns the partition at publish time through a subject mapping in its config
 * (`partitionMappings`): a reading is stored as `ecp.<partition>.<community>.meter.<meter>`
 * (or `….net`). A stream per partition rather than one filtered consumer per partition: on
 * nats-server 2.9 filtered consumers of one shared stream were seen delivering a backlog at
 * ~100 messages/s, and separate streams spread their leaders over a cluster's nodes.
 */
export const PARTITIONS = 8;
/** How long the aggregator's consumers wait for an ack before they deliver a message again (to a partition's next owner after a crash). */
export const CONSUMER_ACK_WAIT_MS = 10_000;
export const PARTITIONED_SUBJECT_PREFIX = "ecp";

/** The partition of a community: what nats-server's `partition(n,1)` computes (FNV-1a of the id, mod n). */
export const partitionOf = (communityId: string, partitions: number = PARTITIONS): number => hashString(communityId) % partitions;

/** A reading subject as published (`ec.<c>.…`), moved into its partition (`ecp.<p>.<c>.…`) as the mapping would. */
export function partitionedSubject(publishedSubject: string, partitions: number = PARTITIONS): string | undefined {
  const where = parseReadingSubject(publishedSubject);
  if (!where || where.partition !== undefined) return undefined;
  return `${PARTITIONED_SUBJECT_PREFIX}.${partitionOf(where.communityId, partitions)}.${publishedSubject.slice("ec.".length)}`;
}

/** The stream holding one partition's readings, and its subjects. */
export const partitionStream = (partition: number): string => `${STREAM}_P${partition}`;
export const partitionStreamSubjects = (partition: number): string[] => [`${PARTITIONED_SUBJECT_PREFIX}.${partition}.>`];
/** Every stream that holds readings: EC_STREAM (unpartitioned) and the partitions'. */
export const READING_STREAMS: readonly string[] = [STREAM, ...Array.from({ length: PARTITIONS }, (_, partition) => partitionStream(partition))];

/** The durable consumer that reads one partition's stream. */
export const partitionConsumer = (partition: number): string => `agg-p${partition}`;
/** The durable consumer of EC_STREAM, whose readings arrived unpartitioned. */
export const STRAYS_CONSUMER = "agg-strays";

/** The durable pull consumers the aggregator reads through: one per partition stream, and one of EC_STREAM. */
export const AGGREGATOR_CONSUMERS: ReadonlyArray<{ readonly stream: string; readonly name: string; readonly partition?: number }> = [
  ...Array.from({ length: PARTITIONS }, (_, partition) => ({ stream: partitionStream(partition), name: partitionConsumer(partition), partition })),
  { stream: STREAM, name: STRAYS_CONSUMER },
];

/** The nats-server `mappings` block that partitions readings by community (FNV-1a of the id, mod `partitions`). */
export function partitionMappings(partitions: number = PARTITIONS): Record<string, string> {
  const partition = `{{partition(${partitions},1)}}`;
  return {
    "ec.*.meter.*": `${PARTITIONED_SUBJECT_PREFIX}.${partition}.{{wildcard(1)}}.meter.{{wildcard(2)}}`,
    "ec.*.net": `${PARTITIONED_SUBJECT_PREFIX}.${partition}.{{wildcard(1)}}.net`,
  };
}

/** The archiver's durable consumer of one partition's stream (issue 22): its own, independent of the aggregator's. */
export const archiveConsumer = (partition: number): string => `archive-p${partition}`;
/** How long the archiver's consumers wait for an ack: longer than a flush (10 s) and a slow segment write. */
export const ARCHIVE_ACK_WAIT_MS = 30_000;
/**
 * Readings an archive consumer hands out before they are acknowledged. Bounded so that the
 * archiver (8 partitions: ≤ 80,000) writes all it holds well within the ack wait even on a busy
 * machine: at 50,000 a partition it took in a whole 360,000-reading backlog at once, its flushes
 * outlasted the ack wait and ≈ 240,000 readings were delivered again (`npm run bench:archive`).
 */
export const ARCHIVE_MAX_ACK_PENDING = 10_000;

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
export const DLQ_STREAM = "EC_DLQ";
export const DLQ_SUBJECT = "ec.dlq";

/**
 * The subjects EC_STREAM holds: both reading levels as published (the prototype's subjects,
 * and what a server without ecwatch's mappings stores) and as partitioned by nats-server's
 * mapping (`partitionMappings`), never the change feed or the DLQ.
 */
export const STREAM_SUBJECTS = ["ec.*.net", "ec.*.meter.*", "ecp.>"] as const;

export const communityReadingSubject = (communityId: string): string => `ec.${communityId}.net`;
export const meterReadingSubject = (communityId: string, meterId: string): string => `ec.${communityId}.meter.${meterId}`;
/** Core NATS change feed of a community's aggregate (not stored in the stream). */
export const changeFeedSubject = (communityId: string): string => `ec.${communityId}.agg`;
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
  if (tokens[0] === PARTITIONED_SUBJECT_PREFIX) {
    if (!PARTITION_TOKEN.test(tokens[1] ?? "")) return undefined;
    const published = parseReadingSubject(["ec", ...tokens.slice(2)].join("."));
    return published && { ...published, partition: Number(tokens[1]) };
  }
  if (tokens[0] !== "ec" || !tokens[1]) return undefined;
  if (tokens.length === 3 && tokens[2] === "net") return { level: "community", communityId: tokens[1] };
  if (tokens.length === 4 && tokens[2] === "meter" && tokens[3]) return { level: "meter", communityId: tokens[1], meterId: tokens[3] };
  return undefined;
}

/** The MQTT topic of a reading subject (`ec/<c>/meter/<m>`): nats-server's MQTT listener maps `/` back to `.`. */
export const mqttTopicOf = (subject: string): string => subject.replaceAll(".", "/");

/**
 * Communities are spread over this many partitions, each read by its own durable consumer
 * and owned by one aggregator at a time. nats-server assigns the partition at publish time
 * through a subject mapping in its config (`partitionMappings`), so a reading's subject in
 * EC_STREAM is `ecp.<partition>.<community>.meter.<meter>` (or `….net`).
 */
export const PARTITIONS = 8;
export const PARTITIONED_SUBJECT_PREFIX = "ecp";

/** The partition of a community: what nats-server's `partition(n,1)` computes (FNV-1a of the id, mod n). */
export const partitionOf = (communityId: string, partitions: number = PARTITIONS): number => hashString(communityId) % partitions;

/** A reading subject as published (`ec.<c>.…`), moved into its partition (`ecp.<p>.<c>.…`) as the mapping would. */
export function partitionedSubject(publishedSubject: string, partitions: number = PARTITIONS): string | undefined {
  const where = parseReadingSubject(publishedSubject);
  if (!where || where.partition !== undefined) return undefined;
  return `${PARTITIONED_SUBJECT_PREFIX}.${partitionOf(where.communityId, partitions)}.${publishedSubject.slice("ec.".length)}`;
}

/** The durable consumer that reads one partition of EC_STREAM, and its filter. */
export const partitionConsumer = (partition: number): string => `agg-p${partition}`;
export const partitionFilter = (partition: number): string => `${PARTITIONED_SUBJECT_PREFIX}.${partition}.>`;
/** The durable consumer that reads readings stored as published (unpartitioned), and its filter. */
export const STRAYS_CONSUMER = "agg-strays";
export const STRAYS_FILTER = "ec.>";

/** The durable pull consumers the aggregator reads through: one per partition, and one for readings stored unpartitioned. */
export const AGGREGATOR_CONSUMERS: ReadonlyArray<{ readonly name: string; readonly filter: string }> = [
  ...Array.from({ length: PARTITIONS }, (_, partition) => ({ name: partitionConsumer(partition), filter: partitionFilter(partition) })),
  { name: STRAYS_CONSUMER, filter: STRAYS_FILTER },
];

/** The nats-server `mappings` block that partitions readings by community (FNV-1a of the id, mod `partitions`). */
export function partitionMappings(partitions: number = PARTITIONS): Record<string, string> {
  const partition = `{{partition(${partitions},1)}}`;
  return {
    "ec.*.meter.*": `${PARTITIONED_SUBJECT_PREFIX}.${partition}.{{wildcard(1)}}.meter.{{wildcard(2)}}`,
    "ec.*.net": `${PARTITIONED_SUBJECT_PREFIX}.${partition}.{{wildcard(1)}}.net`,
  };
}

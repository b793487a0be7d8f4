import type { ConsumerConfig, ConsumerInfo, StreamConfig, StreamState } from "@nats-io/jetstream";
import { formatDuration } from "../domain/duration.js";
import { type ForeignConsumer, foreignConsumerNotice, isPrototypeAggregator } from "../wire/foreign-consumers.js";
import {
  AGGREGATOR_CONSUMERS,
  DEAD_LETTER_KINDS,
  DLQ_STREAM,
  DLQ_SUBJECTS,
  type DeadLetterKind,
  LATEST_BUCKET,
  PARTITIONS,
  STATE_BUCKET,
  STRAYS_CONSUMER,
  STREAM,
  STREAM_SUBJECTS,
  deadLetterSubject,
} from "../wire/names.js";
import { type Check, formatBytes } from "./verdicts.js";

/** doctor's verdicts on the JetStream resources ecwatch uses: the streams, the consumers (its own and others'), the buckets, the dead letters. Pure. */

const NANOS_PER_MS = 1_000_000;
const CREATED_BY_AGGREGATE = "Run `ecwatch aggregate` (or `ecwatch up`), which creates it.";

/** A stream's subjects, sorted, when they are not `wanted` (in any order); undefined when they are. */
function otherSubjects(config: Pick<StreamConfig, "subjects">, wanted: readonly string[]): string[] | undefined {
  const subjects = [...(config.subjects ?? [])].sort();
  return subjects.join() === [...wanted].sort().join() ? undefined : subjects;
}

export type StreamView = { readonly config: Pick<StreamConfig, "subjects" | "max_age" | "max_bytes">; readonly state: Pick<StreamState, "messages" | "bytes"> };

/** EC_STREAM must hold exactly both reading levels and keep bounded history. */
export function streamCheck(stream: StreamView | undefined): Check {
  const name = `stream ${STREAM}`;
  if (!stream) return { name, status: "warn", detail: "does not exist yet", fix: CREATED_BY_AGGREGATE };
  const subjects = otherSubjects(stream.config, STREAM_SUBJECTS);
  if (subjects) {
    return {
      name,
      status: "fail",
      detail: `holds ${JSON.stringify(subjects)} instead of ${JSON.stringify(STREAM_SUBJECTS)}`,
      fix: "Run `ecwatch aggregate` (or `ecwatch up`), which updates the stream's subjects on start.",
    };
  }
  const { max_age: maxAge, max_bytes: maxBytes } = stream.config;
  const contents = `${stream.state.messages} readings, ${formatBytes(stream.state.bytes)}`;
  const unlimited = [maxAge > 0 ? "" : "age", maxBytes > 0 ? "" : "size"].filter(Boolean);
  if (unlimited.length) {
    return {
      name,
      status: "warn",
      detail: `no ${unlimited.join(" or ")} limit, so it grows without bound (${contents})`,
      fix: "Run `ecwatch aggregate` (or `ecwatch up`), which sets the retention limits on start.",
    };
  }
  return { name, status: "ok", detail: `${contents}; keeps ${formatDuration(maxAge / NANOS_PER_MS)} / ${formatBytes(maxBytes)}` };
}

export type ConsumerView = Pick<ConsumerInfo, "num_pending" | "num_ack_pending"> & {
  readonly config: Pick<ConsumerConfig, "deliver_subject">;
};

/**
 * The aggregator's consumers (one per partition stream, and agg-strays of EC_STREAM), by name;
 * undefined where missing. A backlog on agg-strays means readings arrive unpartitioned:
 * nats-server lacks the mapping.
 */
export function consumerCheck(consumers: Readonly<Record<string, ConsumerView | undefined>>): Check {
  const name = "aggregator consumers";
  const missing = AGGREGATOR_CONSUMERS.filter(({ name: consumer }) => !consumers[consumer]).map(({ name: consumer }) => consumer);
  if (missing.length) return { name, status: "warn", detail: `${missing.join(", ")} missing`, fix: CREATED_BY_AGGREGATE };
  const push = AGGREGATOR_CONSUMERS.filter(({ name: consumer }) => consumers[consumer]!.config.deliver_subject);
  if (push.length) {
    return {
      name,
      status: "warn",
      detail: `${push.map(({ name: consumer }) => consumer).join(", ")}: push instead of pull`,
      fix: "Run `ecwatch aggregate`, which replaces them with pull consumers.",
    };
  }
  const all = AGGREGATOR_CONSUMERS.map(({ name: consumer }) => consumers[consumer]!);
  const lag = all.reduce((sum, consumer) => sum + consumer.num_pending, 0);
  const awaiting = all.reduce((sum, consumer) => sum + consumer.num_ack_pending, 0);
  const detail = `${PARTITIONS} partitions; lag ${lag}, awaiting ack ${awaiting}`;
  const strays = consumers[STRAYS_CONSUMER]!;
  if (strays.num_pending + strays.num_ack_pending > 0) {
    return {
      name,
      status: "warn",
      detail: `${detail}; ${strays.num_pending + strays.num_ack_pending} readings stored unpartitioned`,
      fix: "Add ecwatch's `mappings` to nats-server's config (docs/operating.md, \"Running on a NATS cluster\"); until then the aggregator moves them into their partitions.",
    };
  }
  return { name, status: "ok", detail };
}

export type CountView = { readonly state: Pick<StreamState, "messages"> };

/** A KV bucket: a stream the aggregator creates, reported with how much it holds. */
export function ownedStreamCheck(name: string, stream: CountView | undefined, what: string): Check {
  if (!stream) return { name, status: "warn", detail: "does not exist yet", fix: CREATED_BY_AGGREGATE };
  return { name, status: "ok", detail: `${stream.state.messages} ${what}` };
}

export type DeadLetterView = {
  readonly config: Pick<StreamConfig, "subjects">;
  /** `subjects`: the messages per subject (asked with a subjects filter). */
  readonly state: Pick<StreamState, "messages" | "subjects">;
};

/**
 * EC_DLQ, with its dead letters by kind (the last token of their subject). Those whose subject is
 * not a reading subject are a device or publisher writing under `ec.` where no reading goes
 * (e.g. an MQTT topic with a level too many): a warning, as none of them is aggregated.
 */
export function deadLetterCheck(dlq: DeadLetterView | undefined): Check {
  const name = `stream ${DLQ_STREAM}`;
  if (!dlq) return { name, status: "warn", detail: "does not exist yet", fix: CREATED_BY_AGGREGATE };
  const subjects = otherSubjects(dlq.config, DLQ_SUBJECTS);
  if (subjects) {
    return {
      name,
      status: "warn",
      detail: `${dlq.state.messages} dead letters; holds ${JSON.stringify(subjects)} instead of ${JSON.stringify(DLQ_SUBJECTS)} (ecwatch before issue 18)`,
      fix: "Run `ecwatch aggregate` (or `ecwatch up`), which moves the dead letters' subject on start.",
    };
  }
  const counts = Object.fromEntries(DEAD_LETTER_KINDS.map((kind) => [kind, dlq.state.subjects?.[deadLetterSubject(kind)] ?? 0])) as Record<DeadLetterKind, number>;
  const detail = `${dlq.state.messages} dead letters: ${counts.subject} not on a reading subject, ${counts.reading} not a valid reading`;
  if (counts.subject > 0) {
    return {
      name,
      status: "warn",
      detail: `${detail} — something publishes under ec. (MQTT ec/) where no reading goes`,
      fix: `See their subjects and reasons with \`nats stream view ${DLQ_STREAM}\`, and point the device at ec/<communityId>/meter/<meterId> (docs/mqtt.md).`,
      counts,
    };
  }
  return { name, status: "ok", detail, counts };
}

/**
 * A durable consumer of the reading streams that ecwatch did not create (issue 18). The
 * prototype's `agg-worker` is a problem: its aggregator writes `ec_latest` and Redis, fighting
 * ecwatch's. Any other is a warning: it may only read.
 */
export function foreignConsumerCheck(consumer: ForeignConsumer): Check {
  const { detail, fix } = foreignConsumerNotice(consumer, false);
  return { name: `consumer ${consumer.name}`, status: isPrototypeAggregator(consumer) ? "fail" : "warn", detail, fix };
}

/** What exists of the JetStream resources ecwatch uses; undefined where missing. */
export interface Topology {
  readonly stream: StreamView | undefined;
  readonly consumers: Readonly<Record<string, ConsumerView | undefined>>;
  /** The reading streams' consumers that are not ecwatch's. */
  readonly foreign: readonly ForeignConsumer[];
  readonly latest: CountView | undefined;
  readonly state: CountView | undefined;
  readonly dlq: DeadLetterView | undefined;
}

/** One line per resource, or a single line when nothing was created yet (a fresh server). */
export function topologyChecks(topology: Topology): Check[] {
  const { stream, consumers, latest, state, dlq, foreign } = topology;
  if (!stream && !latest && !state && !dlq) {
    const names = [STREAM, "its consumers", LATEST_BUCKET, STATE_BUCKET, DLQ_STREAM].join(", ");
    return [{ name: "resources", status: "warn", detail: `none created yet (${names})`, fix: "Run `ecwatch aggregate` (or `ecwatch up`), which creates them." }];
  }
  return [
    streamCheck(stream),
    // Without the stream the consumers cannot exist; the stream's line already says what to run.
    ...(stream ? [consumerCheck(consumers)] : []),
    ...foreign.map(foreignConsumerCheck),
    ownedStreamCheck(`KV ${LATEST_BUCKET}`, latest, "keys"),
    ownedStreamCheck(`KV ${STATE_BUCKET}`, state, "keys"),
    deadLetterCheck(dlq),
  ];
}

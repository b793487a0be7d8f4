import { AGGREGATOR_CONSUMERS, LATEST_BUCKET, PARTITIONS, PROTOTYPE_CONSUMER, STREAM, archiveConsumer, partitionStream } from "./names.js";

/** A durable consumer of a reading stream that ecwatch did not create (issue 18). */
export interface ForeignConsumer {
  readonly stream: string;
  readonly name: string;
  /** A push consumer (it has a deliver subject), as the prototype's `js.subscribe(…, durable="agg-worker")` creates. */
  readonly push: boolean;
  /** Its deliver policy (`all`, `new`, …). */
  readonly deliverPolicy: string;
}

/** Whether a durable consumer of `stream` is one of ecwatch's: the aggregator's (`agg-p<n>`, `agg-strays`) or the archiver's (`archive-p<n>`, issue 22). */
export const isEcwatchConsumer = (stream: string, name: string): boolean =>
  AGGREGATOR_CONSUMERS.some((own) => own.stream === stream && own.name === name) ||
  Array.from({ length: PARTITIONS }, (_, partition) => partition).some((partition) => stream === partitionStream(partition) && name === archiveConsumer(partition));

/** Whether it is the prototype's aggregator's consumer: that aggregator writes its own values to `ec_latest` and Redis. */
export const isPrototypeAggregator = (consumer: ForeignConsumer): boolean => consumer.stream === STREAM && consumer.name === PROTOTYPE_CONSUMER;

/**
 * What `doctor`, `up` and `aggregate` say about a foreign consumer (one wording for all three).
 * `removed`: the aggregator removed it on start (ensureTopology removes the prototype's
 * `agg-worker` when it adopts EC_STREAM); the aggregator that made it re-creates it when it restarts.
 */
export function foreignConsumerNotice(consumer: ForeignConsumer, removed: boolean): { readonly detail: string; readonly fix: string } {
  const kind = `${consumer.push ? "push" : "pull"} consumer, delivers ${consumer.deliverPolicy}`;
  const what = `${consumer.stream} has a consumer ecwatch did not create, ${consumer.name} (${kind})`;
  const rm = `\`nats consumer rm ${consumer.stream} ${consumer.name} -f\``;
  if (isPrototypeAggregator(consumer)) {
    const now = removed
      ? "ecwatch removed it on start, but that aggregator re-creates it when it restarts and replays every reading"
      : "`ecwatch aggregate` and `ecwatch up` remove it on start, but that aggregator re-creates it when it restarts and replays every reading";
    return {
      detail: `${what}: another aggregator, such as the prototype's, reads the readings and writes its own values to KV ${LATEST_BUCKET} and Redis, which ecwatch's aggregator then overwrites; ${now}`,
      fix: `Stop the other aggregator (the prototype's worker), then remove its consumer with ${rm}.`,
    };
  }
  return {
    detail: `${what}: if it is another aggregator, its writes to KV ${LATEST_BUCKET} and Redis fight ecwatch's`,
    fix: `If it writes ${LATEST_BUCKET} or Redis, stop that program, then remove its consumer with ${rm}.`,
  };
}

import type { LeaseStore } from "../leases/lease.js";

/**
 * What the aggregator needs from the world, named for its purpose (issue 16). The NATS and
 * Redis adapters implement these once (`src/nats/aggregator-stores.ts`, `src/redis/redis-cache.ts`);
 * unit tests use hand-written in-memory fakes (`test/helpers/aggregator-fakes.ts`).
 */

/** A reading as delivered by a durable consumer: acknowledged once its effect is stored, or handed back. */
export interface ReadingMessage {
  readonly subject: string;
  /** Its sequence in its stream. */
  readonly seq: number;
  readonly info: {
    readonly stream: string;
    /** Delivered before (to this aggregator, or to a partition's owner that died before acknowledging it). */
    readonly redelivered: boolean;
  };
  readonly data: Uint8Array;
  string(): string;
  ack(): void;
  /** Hands it back, to be delivered again after `delayMs`. */
  nak(delayMs?: number): void;
}

/** A running consumption: `stop` ends it once what was delivered has been handed to the callback. */
export interface Consumption {
  stop(): Promise<void>;
}

export type OnReading = (msg: ReadingMessage) => void;

/** The readings: a partition's stream, the strays stored as published, and moving a stray into its partition. */
export interface ReadingSource {
  consumePartition(partition: number, options: { readonly maxMessages: number }, onReading: OnReading): Promise<Consumption>;
  consumeStrays(options: { readonly maxMessages: number }, onReading: OnReading): Promise<Consumption>;
  /**
   * The readings a partition's crashed owner had been delivered and not acknowledged, read from
   * the stream itself (a new owner would get them again only after the consumer's ack wait, behind
   * newer ones). Empty after a clean hand-over. They are not to be acknowledged: the consumer
   * delivers them again. Every one of them, in stream order, handed on as they are read: one
   * left out would come back after the ack wait as a redelivered reading older than its meter's
   * integration, taken for a duplicate, and its energy would be lost.
   */
  unacknowledged(partition: number): AsyncIterable<ReadingMessage>;
  /** Stores a stray reading in its partition's stream; `msgId` makes a repeated forward a duplicate. */
  forward(subject: string, data: Uint8Array, msgId: string): Promise<void>;
}

/**
 * The aggregator's own bucket (`ec_agg_state`): per-meter snapshots and, under
 * `aggregator/…`, its leases and members. Revisions make compare-and-set possible.
 */
export interface StateStore extends LeaseStore {
  put(key: string, value: string): Promise<void>;
  /** Removes the key and its history. */
  purge(key: string): Promise<void>;
}

/** The latest aggregate of each community (`ec_latest`, the prototype's bucket). */
export interface LatestValueStore {
  communities(): Promise<string[]>;
  get(communityId: string): Promise<string | undefined>;
  put(communityId: string, json: string): Promise<void>;
  /**
   * Calls `onValue` with each community's current value, then with every value put into the
   * bucket by anyone, until stopped: how a foreign writer is noticed (foreign-writes.ts).
   */
  watch(onValue: (communityId: string, json: string) => void): Promise<Consumption>;
}

/** A community's energy per UTC day (`ec_energy`, see energy/day-record.ts), and the data time before which it is final. */
export interface EnergyStore {
  get(communityId: string, dayStartMs: number): Promise<string | undefined>;
  put(communityId: string, dayStartMs: number, record: string): Promise<void>;
  putFinal(communityId: string, finalMs: number): Promise<void>;
}

/** Where every stored aggregate is announced (`ecagg.<id>`). */
export interface ChangeFeed {
  announce(communityId: string, json: string): void;
}

/** What goes to the dead letters for a message that cannot be aggregated. */
export interface DeadLetter {
  readonly reason: string;
  readonly subject: string;
  readonly data: string;
}

/** The dead letters (`EC_DLQ`). */
export interface DeadLetterStore {
  /** Resolves whether it was stored (the message is acknowledged only then). */
  store(msg: ReadingMessage, deadLetter: DeadLetter): Promise<boolean>;
}

/** The cache in front of the latest values (Redis): written behind, never waited for by a reader. */
export interface LatestCache {
  putLatest(entries: ReadonlyArray<{ readonly communityId: string; readonly json: string }>): Promise<void>;
  /** The cached values of `communityIds` in their order, null where missing (one round trip). */
  readLatest(communityIds: readonly string[]): Promise<Array<string | null>>;
}

/** Everything the aggregator works with. */
export interface AggregatorPorts {
  readonly readings: ReadingSource;
  readonly state: StateStore;
  readonly latest: LatestValueStore;
  readonly energy: EnergyStore;
  readonly changes: ChangeFeed;
  readonly deadLetters: DeadLetterStore;
  readonly cache: LatestCache;
}

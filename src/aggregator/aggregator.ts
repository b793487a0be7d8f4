import type { ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import type { Bus } from "../bus/nats-bus.js";
import { CONSUMER, DLQ_SUBJECT, STREAM, changeFeedSubject, latestKey } from "../bus/names.js";
import type { RedisCache } from "../cache/redis-cache.js";
import type { Aggregate } from "../domain/aggregate.js";
import { type CommunitySnapshot, CommunityState } from "./community-state.js";
import { decodeReading } from "./decode.js";

/** Options of the aggregator service. */
export interface AggregatorOptions {
  /** A meter this far (data time) behind its community's newest reading leaves the totals. Default 30 s. */
  readonly staleAfterMs?: number;
  /** Called with every new aggregate after it is stored. */
  readonly onAggregate?: (aggregate: Aggregate) => void;
  /** Called when a batch could not be stored (it is retried) or the cache could not be written. */
  readonly onError?: (err: unknown) => void;
  /** Messages the client buffers ahead of processing. Default 1,000. */
  readonly maxMessages?: number;
}

/** Counters of the aggregator, for status lines and `doctor`. */
export interface AggregatorStats {
  readings: number;
  /** Duplicates and readings older than the meter's current one: they change nothing. */
  ignored: number;
  deadLetters: number;
  batches: number;
  largestBatch: number;
  storeErrors: number;
  cacheErrors: number;
}

const DEAD_LETTER_DATA_LIMIT = 64 * 1024;
const RETRY_DELAY_MS = 1_000;

/**
 * Consumes EC_STREAM through the durable pull consumer `agg-worker` and keeps every
 * community's totals exact: per-meter state in memory, snapshotted to KV with each batch,
 * messages acknowledged only after their batch is stored. A crash before the ack means
 * redelivery, and redelivered readings are idempotent (the highest (measuredAt, seq) wins).
 *
 * Batching needs no timer: messages arrive through a synchronous callback and a flush is
 * scheduled with setImmediate, so one flush takes everything that arrived in the same
 * socket reads, and whatever arrives during a flush forms the next batch.
 */
export class Aggregator {
  readonly stats: AggregatorStats = { readings: 0, ignored: 0, deadLetters: 0, batches: 0, largestBatch: 0, storeErrors: 0, cacheErrors: 0 };
  private readonly states = new Map<string, CommunityState>();
  private dirty = new Set<string>();
  private pending: JsMsg[] = [];
  private deadLetters: Array<{ reason: string; subject: string; data: string }> = [];
  private readonly cacheRetry = new Map<string, string>();
  private flushing: Promise<void> | undefined;
  private flushScheduled = false;
  private messages: ConsumerMessages | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly staleAfterMs: number;

  private constructor(
    private readonly bus: Bus,
    private readonly cache: RedisCache,
    private readonly options: AggregatorOptions,
  ) {
    this.staleAfterMs = options.staleAfterMs ?? 30_000;
  }

  /** Loads the snapshots of every community, then starts consuming. */
  static async start(bus: Bus, cache: RedisCache, options: AggregatorOptions = {}): Promise<Aggregator> {
    const aggregator = new Aggregator(bus, cache, options);
    await aggregator.loadSnapshots();
    const consumer = await bus.js.consumers.get(STREAM, CONSUMER);
    aggregator.messages = await consumer.consume({
      max_messages: options.maxMessages ?? 1_000,
      callback: (msg) => aggregator.receive(msg),
    });
    return aggregator;
  }

  private async loadSnapshots(): Promise<void> {
    const keys: string[] = [];
    for await (const key of await this.bus.state.keys()) keys.push(key);
    for (const key of keys) {
      const entry = await this.bus.state.get(key);
      if (!entry || entry.operation !== "PUT") continue;
      this.states.set(key, new CommunityState(key, entry.json<CommunitySnapshot>()));
    }
  }

  private stateOf(communityId: string): CommunityState {
    let state = this.states.get(communityId);
    if (!state) {
      state = new CommunityState(communityId);
      this.states.set(communityId, state);
    }
    return state;
  }

  private receive(msg: JsMsg): void {
    const decoded = decodeReading(msg.subject, msg.string(), msg.seq);
    if (decoded.ok) {
      this.stats.readings += 1;
      if (this.stateOf(decoded.communityId).apply(decoded.meterId, decoded.state)) this.dirty.add(decoded.communityId);
      else this.stats.ignored += 1;
    } else {
      this.deadLetters.push({ reason: decoded.reason, subject: msg.subject, data: msg.string().slice(0, DEAD_LETTER_DATA_LIMIT) });
    }
    this.pending.push(msg);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushing = this.flushAll().finally(() => {
        this.flushing = undefined;
      });
    });
  }

  private async flushAll(): Promise<void> {
    while (this.pending.length) await this.flushBatch();
  }

  private async flushBatch(): Promise<void> {
    const batch = this.pending;
    const deadLetters = this.deadLetters;
    const dirty = this.dirty;
    this.pending = [];
    this.deadLetters = [];
    this.dirty = new Set();

    const now = new Date();
    const snapshots: Array<[string, CommunitySnapshot]> = [];
    const changed: Aggregate[] = [];
    for (const communityId of dirty) {
      const state = this.states.get(communityId)!;
      const aggregate = state.nextAggregate(this.staleAfterMs, now);
      if (aggregate) changed.push(aggregate);
      // After nextAggregate, so the snapshot carries the version just handed out.
      snapshots.push([communityId, state.snapshot()]);
    }
    const jsonOf = new Map(changed.map((a) => [a.communityId, JSON.stringify(a)]));

    try {
      await Promise.all([
        ...snapshots.map(([id, snapshot]) => this.bus.state.put(id, JSON.stringify(snapshot))),
        ...changed.map((a) => this.bus.latest.put(latestKey(a.communityId), jsonOf.get(a.communityId)!)),
        ...deadLetters.map((letter) => this.bus.js.publish(DLQ_SUBJECT, JSON.stringify(letter))),
      ]);
    } catch (err) {
      // Nothing is acknowledged: the batch comes back and is applied again, idempotently.
      this.stats.storeErrors += 1;
      for (const communityId of dirty) {
        this.dirty.add(communityId);
        this.states.get(communityId)!.forgetLastAggregate();
      }
      for (const msg of batch) msg.nak(RETRY_DELAY_MS);
      this.options.onError?.(err);
      return;
    }

    for (const [communityId, json] of jsonOf) this.cacheRetry.set(communityId, json);
    await this.writeCache();
    for (const aggregate of changed) this.bus.nc.publish(changeFeedSubject(aggregate.communityId), jsonOf.get(aggregate.communityId)!);
    for (const msg of batch) msg.ack();

    this.stats.batches += 1;
    this.stats.deadLetters += deadLetters.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    for (const aggregate of changed) this.options.onAggregate?.(aggregate);
  }

  /**
   * Redis is a cache in front of KV: a failed write does not hold back the batch, it is
   * retried until it lands, so a reader never gets a stale value for longer than the outage.
   */
  private async writeCache(): Promise<void> {
    if (!this.cacheRetry.size) return;
    const entries = [...this.cacheRetry].map(([communityId, json]) => ({ communityId, json }));
    try {
      await this.cache.putLatest(entries);
      for (const { communityId, json } of entries) if (this.cacheRetry.get(communityId) === json) this.cacheRetry.delete(communityId);
    } catch (err) {
      this.stats.cacheErrors += 1;
      this.options.onError?.(err);
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = undefined;
        void this.writeCache();
      }, RETRY_DELAY_MS);
    }
  }

  /** Stops consuming, stores what was received, and acknowledges it. */
  async stop(): Promise<void> {
    this.messages?.stop();
    await this.messages?.closed();
    while (this.flushing || this.flushScheduled) {
      await (this.flushing ?? new Promise((resolve) => setImmediate(resolve)));
    }
    clearTimeout(this.retryTimer);
  }
}

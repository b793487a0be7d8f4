import type { ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import { type Bus, kvKeys } from "../bus/nats-bus.js";
import {
  LATEST_BUCKET,
  LATEST_KEY_PREFIX,
  PARTITIONS,
  STATE_BUCKET,
  changeFeedSubject,
  energyDayKey,
  latestKey,
  partitionConsumer,
  partitionOf,
  partitionStream,
} from "../bus/names.js";
import type { RedisCache } from "../cache/redis-cache.js";
import { type Aggregate, aggregateFromJson } from "../domain/aggregate.js";
import { decodeDay, encodeDay } from "../energy/day-record.js";
import { type CommunitySnapshot, CommunityState, type DirtyDay, addMinuteSums, communityOfShardKey } from "./community-state.js";
import { type DeadLetter, deadLetterOf, publishDeadLetter } from "./dead-letter.js";
import { decodeReading } from "./decode.js";
import { CONTROL_KEY_PREFIX, type Lease } from "./lease.js";

/** Options of the aggregator service. */
export interface AggregatorOptions {
  /** A meter this far (data time) behind its community's newest reading leaves the totals. Default 30 s. */
  readonly staleAfterMs?: number;
  /** Called with every new aggregate after it is stored. */
  readonly onAggregate?: (aggregate: Aggregate) => void;
  /** Called when a community could not be stored (it is retried), the cache could not be written, or the lease was lost. */
  readonly onError?: (err: unknown) => void;
  /** Messages the client buffers ahead of processing. Default 1,000. */
  readonly maxMessages?: number;
  /** How long the aggregator's leases last without renewal (see Lease). Default 15 s. */
  readonly leaseTtlMs?: number;
  /** Called with the size of every batch after it is acknowledged (metrics). */
  readonly onBatch?: (size: number) => void;
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
  /** Readings stored as published (not partitioned by nats-server) that were moved into their partition. */
  forwarded: number;
  /** Partitions this aggregator owns now. */
  partitions: number;
}

export const emptyStats = (): AggregatorStats => ({
  readings: 0,
  ignored: 0,
  deadLetters: 0,
  batches: 0,
  largestBatch: 0,
  storeErrors: 0,
  cacheErrors: 0,
  forwarded: 0,
  partitions: 0,
});

interface Received {
  readonly msg: JsMsg;
  /** The community whose stored state must hold this reading's effect before the ack. */
  readonly communityId?: string;
  readonly deadLetter?: DeadLetter;
}

const RETRY_DELAY_MS = 1_000;
/** How long a pull request lasts; also sets how soon a lost one is noticed (see start). */
const PULL_EXPIRES_MS = 5_000;

/**
 * Aggregates one partition, read from its stream (`EC_STREAM_P<n>`) through its durable pull
 * consumer (`agg-p<n>`), while its aggregator holds the partition's lease, and keeps the totals of
 * the partition's communities exact: per-meter state in memory, and per batch and changed
 * community first the aggregate (`ec_latest`, then Redis and the change feed), then its
 * changed days of energy (`ec_energy`), then the changed shards of its per-meter snapshot
 * (`ec_agg_state`); a message is acknowledged only after all are stored. A crash in between
 * means redelivery, and a redelivered reading missing from the snapshot is applied again and
 * gives a new version of the same totals; one already in it changes nothing. Energy is not
 * idempotent in that window: after a crash between a day record and the snapshot, the
 * redelivered readings add their intervals to that day a second time — at most one batch's.
 * A community whose store fails is retried on its own; the others go on. The next owner of
 * the partition starts from the snapshots and the day records of the days it holds.
 *
 * Batching needs no timer: messages arrive through a synchronous callback and a flush is
 * scheduled with setImmediate, so one flush takes everything that arrived in the same
 * socket reads, and whatever arrives during a flush forms the next batch.
 */
export class PartitionWorker {
  private readonly states = new Map<string, CommunityState>();
  private dirty = new Set<string>();
  private pending: Received[] = [];
  private readonly cacheRetry = new Map<string, string>();
  /** The newest aggregate announced per community: only it may be retried into the cache. */
  private readonly announced = new Map<string, string>();
  private flushing: Promise<void> | undefined;
  private flushScheduled = false;
  private messages: ConsumerMessages | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly staleAfterMs: number;

  private constructor(
    private readonly bus: Bus,
    private readonly cache: RedisCache,
    readonly partition: number,
    private readonly lease: Lease,
    private readonly stats: AggregatorStats,
    private readonly options: AggregatorOptions,
  ) {
    this.staleAfterMs = options.staleAfterMs ?? 30_000;
  }

  /** Loads the partition's state from its snapshots, then starts consuming; gives the lease up if that fails. */
  static async start(
    bus: Bus,
    cache: RedisCache,
    partition: number,
    lease: Lease,
    stats: AggregatorStats,
    options: AggregatorOptions,
  ): Promise<PartitionWorker> {
    const worker = new PartitionWorker(bus, cache, partition, lease, stats, options);
    try {
      await worker.loadState();
      const consumer = await bus.js.consumers.get(partitionStream(partition), partitionConsumer(partition));
      worker.messages = await consumer.consume({
        max_messages: options.maxMessages ?? 1_000,
        // nats.js re-pulls after a reconnect or two missed heartbeats (every expires/2), and when
        // that first look at the consumer fails (its leader died with a node) it waits 0.5–1.5 ×
        // expires: with the default 30 s a partition stood still for up to ~50 s.
        expires: PULL_EXPIRES_MS,
        callback: (msg) => worker.receive(msg),
      });
    } catch (err) {
      await lease.release();
      throw err;
    }
    return worker;
  }

  private owns(communityId: string): boolean {
    return partitionOf(communityId) === this.partition;
  }

  /** Merges every stored shard, raises each version to that of the stored aggregate, and restores the days of energy held. */
  private async loadState(): Promise<void> {
    const keys = await kvKeys(this.bus.jsm, STATE_BUCKET);
    for (const key of keys.filter((k) => !k.startsWith(CONTROL_KEY_PREFIX) && this.owns(communityOfShardKey(k)))) {
      const entry = await this.bus.state.get(key);
      if (entry?.operation === "PUT") this.stateOf(communityOfShardKey(key)).restore(entry.json<CommunitySnapshot>(), key);
    }
    for (const key of await kvKeys(this.bus.jsm, LATEST_BUCKET)) {
      if (!key.startsWith(LATEST_KEY_PREFIX)) continue;
      const state = this.states.get(key.slice(LATEST_KEY_PREFIX.length));
      const entry = state && (await this.bus.latest.get(key));
      const stored = entry?.operation === "PUT" ? aggregateFromJson(entry.string()) : undefined;
      if (stored) state!.raiseVersionTo(stored.version);
    }
    await Promise.all(
      [...this.states.values()].flatMap((state) =>
        state.heldDays().map(async (dayStartMs) => {
          const entry = await this.bus.energy.get(energyDayKey(state.communityId, dayStartMs));
          const stored = entry?.operation === "PUT" ? decodeDay(entry.string()) : undefined;
          if (stored) state.restoreDay(dayStartMs, stored.minutes);
        }),
      ),
    );
  }

  private stateOf(communityId: string): CommunityState {
    let state = this.states.get(communityId);
    if (!state) {
      state = new CommunityState(communityId, this.staleAfterMs);
      this.states.set(communityId, state);
    }
    return state;
  }

  private receive(msg: JsMsg): void {
    const decoded = decodeReading(msg.subject, msg.string(), msg.seq);
    if (decoded.ok && !this.owns(decoded.communityId)) {
      const reason = `partition ${this.partition} holds a reading of ${decoded.communityId}, which belongs in partition ${partitionOf(decoded.communityId)}: nats-server's mapping must use {{partition(${PARTITIONS},1)}}`;
      this.pending.push({ msg, deadLetter: deadLetterOf(msg, reason) });
    } else if (decoded.ok) {
      this.stats.readings += 1;
      if (this.stateOf(decoded.communityId).apply(decoded.meterId, decoded.state)) this.dirty.add(decoded.communityId);
      else this.stats.ignored += 1;
      this.pending.push({ msg, communityId: decoded.communityId });
    } else {
      this.pending.push({ msg, deadLetter: deadLetterOf(msg, decoded.reason) });
    }
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
    const dirty = this.dirty;
    this.pending = [];
    this.dirty = new Set();

    const now = new Date();
    const changed: Aggregate[] = [];
    const failed = new Set<string>();
    await Promise.all(
      [...dirty].map(async (communityId) => {
        const state = this.states.get(communityId)!;
        const aggregate = state.nextAggregate(this.staleAfterMs, now);
        const { shards, taken, obsolete } = state.takeDirtyShards();
        const days = state.takeDirtyDays();
        const unstoredDays = new Set(days);
        const json = aggregate && JSON.stringify(aggregate);
        try {
          // The aggregate before the snapshot (see the class comment); once it is stored it
          // may be announced, so the snapshot stays off the path to the watch.
          if (aggregate) {
            await this.bus.latest.put(latestKey(communityId), json!);
            await this.announce(communityId, json!);
          }
          // Every day settled before any is put back: one stored must not be added again.
          const failure = (
            await Promise.allSettled(
              days.map(async (day) => {
                await this.storeDay(communityId, day);
                unstoredDays.delete(day);
              }),
            )
          ).find((result) => result.status === "rejected");
          if (failure) throw failure.reason;
          await Promise.all(shards.map(([key, snapshot]) => this.bus.state.put(key, JSON.stringify(snapshot))));
          // Only once the new layout is stored may the old one go.
          await Promise.all(obsolete.map((key) => this.bus.state.purge(key)));
          state.stored(
            shards.map(([key]) => key),
            obsolete,
          );
          if (aggregate) changed.push(aggregate);
        } catch (err) {
          failed.add(communityId);
          state.putBack(taken);
          state.putBackDays(unstoredDays);
          this.dirty.add(communityId);
          this.stats.storeErrors += 1;
          this.options.onError?.(err);
        }
      }),
    );
    const deadLettered = await Promise.all(batch.map(({ msg, deadLetter }) => (deadLetter ? publishDeadLetter(this.bus.js, msg, deadLetter) : true)));

    batch.forEach(({ msg, communityId, deadLetter }, index) => {
      const stored = deadLetter ? deadLettered[index] : !failed.has(communityId!);
      // Not stored: it comes back and is applied again, idempotently.
      if (stored) msg.ack();
      else msg.nak(RETRY_DELAY_MS);
    });

    this.stats.batches += 1;
    this.stats.deadLetters += batch.filter((received, index) => received.deadLetter && deadLettered[index]).length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    this.options.onBatch?.(batch.length);
    for (const aggregate of changed) this.options.onAggregate?.(aggregate);
  }

  /** Writes a day of a community's energy: a whole day as it is, late energy of an older day added to its record (read, add, write). */
  private async storeDay(communityId: string, { dayStartMs, minutes, merge }: DirtyDay): Promise<void> {
    const key = energyDayKey(communityId, dayStartMs);
    let day = minutes;
    if (merge) {
      const entry = await this.bus.energy.get(key);
      const stored = entry?.operation === "PUT" ? decodeDay(entry.string()) : undefined;
      day = new Map(minutes);
      if (stored) addMinuteSums(day, stored.minutes);
    }
    await this.bus.energy.put(key, encodeDay(dayStartMs, day));
  }

  /** Puts a stored aggregate into the cache, then on the change feed (a client that GETs on an event finds it). */
  private async announce(communityId: string, json: string): Promise<void> {
    this.cacheRetry.delete(communityId);
    this.announced.set(communityId, json);
    await this.writeCache([[communityId, json]]);
    this.bus.nc.publish(changeFeedSubject(communityId), json);
  }

  /**
   * Redis is a cache in front of KV: a failed write (it fails fast, see RedisCache) does not
   * hold anything back; it is retried every second until it lands (unless a newer value of
   * that community landed first), so a reader gets a stale value for no longer than the outage.
   */
  private async writeCache(entries: ReadonlyArray<readonly [communityId: string, json: string]>): Promise<void> {
    if (!entries.length || this.stopped) return;
    try {
      await this.cache.putLatest(entries.map(([communityId, json]) => ({ communityId, json })));
    } catch (err) {
      // A failed retry must not displace, or come after, a newer value announced meanwhile.
      for (const [communityId, json] of entries) if (this.announced.get(communityId) === json) this.cacheRetry.set(communityId, json);
      this.stats.cacheErrors += 1;
      this.options.onError?.(err);
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = undefined;
        const retry = [...this.cacheRetry];
        this.cacheRetry.clear();
        void this.writeCache(retry);
      }, RETRY_DELAY_MS);
    }
  }

  /** Stops consuming, stores what was received, acknowledges it, and gives up the lease. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.messages?.stop();
    await this.messages?.closed();
    while (this.flushing || this.flushScheduled) {
      await (this.flushing ?? new Promise((resolve) => setImmediate(resolve)));
    }
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.lease.release();
  }
}

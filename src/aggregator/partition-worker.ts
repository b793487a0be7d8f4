import type { ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import { type Bus } from "../nats/bus.js";
import { kvKeys } from "../nats/inspect.js";
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
} from "../wire/names.js";
import type { RedisCache } from "../redis/redis-cache.js";
import { type Aggregate, aggregateFromJson } from "../domain/aggregate.js";
import { decodeDay, encodeDay } from "../energy/day-record.js";
import { type CommunitySnapshot, CommunityState, type DirtyDay, addMinuteSums, communityOfShardKey } from "./community-state.js";
import { type DeadLetter, deadLetterOf, publishDeadLetter } from "./dead-letter.js";
import { decodeReading } from "../wire/decode-reading.js";
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
  /** Called with the size of every batch once its aggregates are announced (metrics). */
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

/** A batch announced, waiting for the store that acknowledges it: `failed` names the communities whose aggregate could not be stored. */
interface Announced {
  readonly batch: readonly Received[];
  readonly failed: ReadonlySet<string>;
}

/** A community's state taken for storing (see CommunityState's takeDirtyShards and takeDirtyDays). */
interface TakenState extends ReturnType<CommunityState["takeDirtyShards"]> {
  readonly communityId: string;
  readonly days: DirtyDay[];
}

/** A community left out of a store because its aggregate was not stored (it is retried). */
class NotAnnounced extends Error {}

/**
 * How often a partition stores its communities' snapshots and days of energy (and then
 * acknowledges what they hold). Per batch, at ~60 batches/s, writing each changed community's
 * day record (4 × 1,440 numbers) was 5–12 % of the aggregator's CPU at 10,000 readings/s; the
 * aggregates still go out per batch. Readings wait this much longer for their ack
 * (bench/README.md row 11: aggregator 60 → 49 % CPU, end-to-end p50 27 → 18 ms).
 */
const STORE_INTERVAL_MS = 100;

const RETRY_DELAY_MS = 1_000;
/** How long a pull request lasts; also sets how soon a lost one is noticed (see start). */
const PULL_EXPIRES_MS = 5_000;

/**
 * Aggregates one partition, read from its stream (`EC_STREAM_P<n>`) through its durable pull
 * consumer (`agg-p<n>`), while its aggregator holds the partition's lease, and keeps the totals of
 * the partition's communities exact: per-meter state in memory, and per batch and changed
 * community the aggregate (`ec_latest`, then Redis and the change feed); at most every
 * STORE_INTERVAL_MS, the changed days of energy (`ec_energy`) and the changed shards of the
 * per-meter snapshots (`ec_agg_state`) of every community changed since the last time; a
 * message is acknowledged only after all are stored. A crash in between means redelivery, and
 * a redelivered reading missing from the snapshot is applied again and gives a new version of
 * the same totals; one already in it changes nothing. Energy is not idempotent in that window:
 * after a crash between a day record and the snapshot, the redelivered readings add their
 * intervals to that day a second time — at most one store's.
 * A community whose store fails is retried on its own; the others go on. The next owner of
 * the partition starts from the snapshots and the day records of the days it holds.
 *
 * Batching needs no timer: messages arrive through a synchronous callback and a flush is
 * scheduled with setImmediate, so one flush takes everything that arrived in the same
 * socket reads, and whatever arrives during a flush forms the next batch; a timer stores
 * what waits when no batch comes.
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
  /** Communities changed since their state was last taken for storing. */
  private unsnapshotted = new Set<string>();
  /** Batches announced since the last store: the next one acknowledges them. */
  private unacked: Announced[] = [];
  private lastStoreMs = Number.NEGATIVE_INFINITY;
  private storeTimer: NodeJS.Timeout | undefined;
  /** Stopping: what waits is stored now. */
  private stopping = false;
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
    do await this.flushBatch();
    while (this.pending.length || this.storeDue());
  }

  /** Batches wait for a store, and the last one began STORE_INTERVAL_MS ago (or the worker stops). */
  private storeDue(): boolean {
    return this.unacked.length > 0 && (this.stopping || performance.now() - this.lastStoreMs >= STORE_INTERVAL_MS);
  }

  /**
   * Announces a batch — per changed community the new aggregate, stored in `ec_latest`, then
   * in Redis and on the change feed — and, at most every STORE_INTERVAL_MS, stores the state
   * of every community changed since the last store and acknowledges the batches announced
   * until then (`store`). The state to store is taken together with the aggregates, so a
   * stored snapshot never holds a reading its stored aggregate lacks.
   */
  private async flushBatch(): Promise<void> {
    const batch = this.pending;
    const dirty = this.dirty;
    this.pending = [];
    this.dirty = new Set();

    const now = new Date();
    const aggregates = [...dirty].map((communityId) => [communityId, this.states.get(communityId)!.nextAggregate(this.staleAfterMs, now)] as const);
    for (const communityId of dirty) this.unsnapshotted.add(communityId);
    // Filled below: the batch's messages of a community whose aggregate was not stored come back.
    const failed = new Set<string>();
    if (batch.length) this.unacked.push({ batch, failed });
    const storing = this.storeDue();
    const taken = storing ? this.takeUnsnapshotted() : [];
    const batches = storing ? this.unacked : [];
    if (storing) {
      this.unacked = [];
      this.lastStoreMs = performance.now();
    }

    const changed: Aggregate[] = [];
    await Promise.all(
      aggregates.map(async ([communityId, aggregate]) => {
        if (!aggregate) return;
        const json = JSON.stringify(aggregate);
        try {
          await this.bus.latest.put(latestKey(communityId), json);
          await this.announce(communityId, json);
          changed.push(aggregate);
        } catch (err) {
          failed.add(communityId);
          this.states.get(communityId)!.aggregateNotStored();
          this.dirty.add(communityId);
          this.stats.storeErrors += 1;
          this.options.onError?.(err);
        }
      }),
    );
    if (batch.length) {
      this.stats.batches += 1;
      this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
      this.options.onBatch?.(batch.length);
    }
    for (const aggregate of changed) this.options.onAggregate?.(aggregate);

    if (storing) await this.store(taken, failed, batches);
    else if (this.unacked.length) this.storeTimer ??= setTimeout(() => {
      this.storeTimer = undefined;
      this.scheduleFlush();
    }, STORE_INTERVAL_MS);
  }

  /** The state of every community changed since it was last taken: shards and days to store. */
  private takeUnsnapshotted(): TakenState[] {
    const taken = [...this.unsnapshotted].map((communityId) => {
      const state = this.states.get(communityId)!;
      return { communityId, ...state.takeDirtyShards(), days: state.takeDirtyDays() };
    });
    this.unsnapshotted = new Set();
    return taken;
  }

  /**
   * Stores what `takeUnsnapshotted` took — per community its changed days of energy
   * (`ec_energy`), then the changed shards of its per-meter snapshot (`ec_agg_state`) — then
   * acknowledges `batches`. A community whose aggregate was not stored (`notAnnounced`) is not
   * stored either: its snapshot would hold readings its stored aggregate lacks.
   */
  private async store(taken: readonly TakenState[], notAnnounced: ReadonlySet<string>, batches: readonly Announced[]): Promise<void> {
    const failed = new Set<string>();
    await Promise.all(
      taken.map(async ({ communityId, shards, taken: meters, obsolete, days }) => {
        const state = this.states.get(communityId)!;
        const unstoredDays = new Set(days);
        try {
          if (notAnnounced.has(communityId)) throw new NotAnnounced();
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
        } catch (err) {
          failed.add(communityId);
          state.putBack(meters);
          state.putBackDays(unstoredDays);
          this.dirty.add(communityId);
          this.unsnapshotted.add(communityId);
          if (err instanceof NotAnnounced) return;
          this.stats.storeErrors += 1;
          this.options.onError?.(err);
        }
      }),
    );
    const messages = batches.flatMap(({ batch, failed: unannounced }) => batch.map((received) => ({ ...received, stored: !received.communityId || !(unannounced.has(received.communityId) || failed.has(received.communityId)) })));
    const deadLettered = await Promise.all(messages.map(({ msg, deadLetter }) => (deadLetter ? publishDeadLetter(this.bus.js, msg, deadLetter) : true)));
    messages.forEach(({ msg, deadLetter, stored }, index) => {
      // Not stored: it comes back and is applied again, idempotently.
      if (deadLetter ? deadLettered[index] : stored) msg.ack();
      else msg.nak(RETRY_DELAY_MS);
    });
    this.stats.deadLetters += messages.filter((received, index) => received.deadLetter && deadLettered[index]).length;
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
    this.stopping = true;
    clearTimeout(this.storeTimer);
    if (this.unacked.length) this.scheduleFlush();
    while (this.flushing || this.flushScheduled) {
      await (this.flushing ?? new Promise((resolve) => setImmediate(resolve)));
    }
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.lease.release();
  }
}

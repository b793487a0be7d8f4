import type { Aggregate } from "../domain/aggregate.js";
import { decodeReading } from "../wire/decode-reading.js";
import { PARTITIONS, partitionOf } from "../wire/names.js";
import { CacheWriter } from "./cache-writer.js";
import { CommunityState } from "./community-state.js";
import { countDeadLetter, deadLetterOf } from "./dead-letter.js";
import type { AggregatorOptions, AggregatorStats } from "./options.js";
import type { AggregatorPorts, Consumption, ReadingMessage } from "./ports.js";
import { type Announced, type Received, acknowledge } from "./acknowledge.js";
import { loadStates } from "./state-loader.js";
import { type TakenState, storeStates, takeState } from "./state-writer.js";

/** What a partition gives up when it stops: the lease, if the worker holds one. */
export interface PartitionLease {
  release(): Promise<void>;
}

const DEFAULT_STORE_INTERVAL_MS = 100;

const DEFAULT_RETRY_DELAY_MS = 1_000;

/**
 * Aggregates one partition, read from its stream (`EC_STREAM_P<n>`) through its durable pull
 * consumer (`agg-p<n>`), while its aggregator holds the partition's lease: per-meter state in
 * memory; per batch and changed community the aggregate (`ec_latest`, then the cache and the
 * change feed); at most every `storeIntervalMs`, the changed days of energy (`ec_energy`), the
 * changed shards of the per-meter snapshots (`ec_agg_state`) and the final data time; a message
 * is acknowledged only after all are stored. A crash in between means redelivery: a reading
 * missing from the snapshot is applied again (a new version of the same totals), one in it
 * changes nothing, and the day records' cursors keep energy from being counted twice
 * (day-ledger.ts). A community whose store fails is retried on its own; the others go on.
 *
 * Batching needs no timer: messages arrive through a synchronous callback and a flush is
 * scheduled with setImmediate, so one flush takes everything that arrived in the same socket
 * reads, and whatever arrives during a flush forms the next batch; a timer stores what waits.
 */
export class PartitionWorker {
  private states = new Map<string, CommunityState>();
  private dirty = new Set<string>();
  private pending: Received[] = [];
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
  /** The lease was lost: nothing more is stored or acknowledged, the next owner gets it all again. */
  private abandoned = false;
  private consumption: Consumption | undefined;
  private stopped = false;

  private readonly staleAfterMs: number;
  private readonly storeIntervalMs: number;
  private readonly retryDelayMs: number;
  private readonly cache: CacheWriter;

  private constructor(
    private readonly ports: AggregatorPorts,
    readonly partition: number,
    private readonly lease: PartitionLease,
    private readonly stats: AggregatorStats,
    private readonly options: AggregatorOptions,
  ) {
    this.staleAfterMs = options.staleAfterMs ?? 30_000;
    this.storeIntervalMs = options.storeIntervalMs ?? DEFAULT_STORE_INTERVAL_MS;
    this.retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
    this.cache = new CacheWriter(ports.cache, this.retryDelayMs, (err) => {
      this.stats.cacheErrors += 1;
      this.options.onError?.(err);
    });
  }

  /** Loads the partition's state from its snapshots, then starts consuming; gives the lease up if that fails. */
  static async start(
    ports: AggregatorPorts,
    partition: number,
    lease: PartitionLease,
    stats: AggregatorStats,
    options: AggregatorOptions,
    /** Called for each community whose stored aggregate is found to be another writer's, with whether it is written again. */
    onForeign: (communityId: string, restored: boolean) => void = () => undefined,
  ): Promise<PartitionWorker> {
    const worker = new PartitionWorker(ports, partition, lease, stats, options);
    try {
      const loaded = await loadStates(ports, (communityId) => worker.owns(communityId), worker.staleAfterMs);
      worker.states = loaded.states;
      // Another writer's aggregate left in KV (the cache's is found by the ForeignWriteGuard): written again by the first flush.
      for (const communityId of loaded.foreign) onForeign(communityId, worker.rewrite(communityId));
      // After a crash, the dead owner's readings first: in their place, before any newer one makes them late.
      for await (const msg of ports.readings.unacknowledged(partition)) worker.replay(msg);
      worker.consumption = await ports.readings.consumePartition(partition, { maxMessages: options.maxMessages ?? 1_000 }, (msg) => worker.receive(msg));
    } catch (err) {
      await lease.release();
      throw err;
    }
    return worker;
  }

  /**
   * Applies a reading a crashed owner had been delivered, without taking it for acknowledgement
   * (the consumer delivers it again, then a duplicate). A malformed one is dead-lettered then.
   */
  private replay(msg: ReadingMessage): void {
    const decoded = decodeReading(msg.subject, msg.string(), msg.seq);
    if (!decoded.ok || !this.owns(decoded.communityId)) return;
    if (this.stateOf(decoded.communityId).apply(decoded.meterId, decoded.state, true) === "pending") this.dirty.add(decoded.communityId);
  }

  owns(communityId: string): boolean {
    return partitionOf(communityId) === this.partition;
  }

  /** The communities of the partition it has readings of. */
  communities(): IterableIterator<string> {
    return this.states.keys();
  }

  /**
   * Another writer replaced the community's aggregate in KV or the cache (issue 18): the next
   * flush writes it again, as a new version, to KV, the cache and the change feed. False when
   * there is nothing to write (no readings of it) or the worker is stopping.
   */
  rewrite(communityId: string): boolean {
    const state = this.states.get(communityId);
    if (!state || this.stopping || this.abandoned) return false;
    state.aggregateNotStored();
    this.dirty.add(communityId);
    this.scheduleFlush();
    return true;
  }

  private stateOf(communityId: string): CommunityState {
    let state = this.states.get(communityId);
    if (!state) {
      // Nothing stored of it: a new community, or one whose state was wiped (`reset`, `up --fresh`), so a new epoch.
      state = new CommunityState(communityId, this.staleAfterMs, Date.now());
      this.states.set(communityId, state);
    }
    return state;
  }

  private receive(msg: ReadingMessage): void {
    if (this.abandoned) return msg.nak();
    const decoded = decodeReading(msg.subject, msg.string(), msg.seq);
    if (decoded.ok && !this.owns(decoded.communityId)) {
      const reason = `partition ${this.partition} holds a reading of ${decoded.communityId}, which belongs in partition ${partitionOf(decoded.communityId)}: nats-server's mapping must use {{partition(${PARTITIONS},1)}}`;
      this.pending.push({ msg, deadLetter: deadLetterOf(msg, reason) });
    } else if (decoded.ok) {
      this.stats.readings += 1;
      const offered = this.stateOf(decoded.communityId).apply(decoded.meterId, decoded.state, msg.info.redelivered);
      if (offered === "duplicate") this.stats.ignored += 1;
      else this.dirty.add(decoded.communityId);
      if (offered === "late") this.stats.late += 1;
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
    while (!this.abandoned && (this.pending.length || this.storeDue()));
  }

  /** Batches wait for a store, and the last one began `storeIntervalMs` ago (or the worker stops). */
  private storeDue(): boolean {
    return this.unacked.length > 0 && (this.stopping || performance.now() - this.lastStoreMs >= this.storeIntervalMs);
  }

  /**
   * Announces a batch — per changed community the new aggregate, stored in `ec_latest`, then
   * in the cache and on the change feed — and, at most every `storeIntervalMs`, stores the
   * state of every community changed since the last store and acknowledges the batches
   * announced until then (`store`). The state to store is taken together with the aggregates,
   * so a stored snapshot never holds a reading its stored aggregate lacks.
   */
  private async flushBatch(): Promise<void> {
    if (this.abandoned) return;
    const batch = this.pending;
    const dirty = this.dirty;
    this.pending = [];
    this.dirty = new Set();

    const now = new Date();
    const aggregates = [...dirty].map((communityId) => [communityId, this.states.get(communityId)!.nextAggregate(now)] as const);
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
          await this.ports.latest.put(communityId, json);
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
    }, this.storeIntervalMs);
  }

  /** The state of every community changed since it was last taken: shards and days to store. */
  private takeUnsnapshotted(): TakenState[] {
    const taken = [...this.unsnapshotted].map((communityId) => takeState(this.states.get(communityId)!));
    this.unsnapshotted = new Set();
    return taken;
  }

  /** Stores what `takeUnsnapshotted` took (see storeStates), then acknowledges `batches`: a reading only once the state that holds it is stored. */
  private async store(taken: readonly TakenState[], notAnnounced: ReadonlySet<string>, batches: readonly Announced[]): Promise<void> {
    const failed = await storeStates(this.ports, this.states, taken, notAnnounced, (err) => {
      this.stats.storeErrors += 1;
      this.options.onError?.(err);
    });
    for (const communityId of failed) {
      this.dirty.add(communityId);
      this.unsnapshotted.add(communityId);
    }
    // Counted after the await: `stats` is shared by the aggregator's partitions, and `+= await` would add to a stale value.
    const deadLettered = await acknowledge(batches, failed, this.ports.deadLetters, { keep: !this.abandoned, retryDelayMs: this.retryDelayMs });
    for (const deadLetter of deadLettered) countDeadLetter(this.stats, deadLetter);
  }

  /** Puts a stored aggregate into the cache, then on the change feed (a client that GETs on an event finds it). */
  private async announce(communityId: string, json: string): Promise<void> {
    await this.cache.write(communityId, json);
    this.ports.changes.announce(communityId, json);
  }

  /** Waits for the flush under way and any scheduled. */
  private async settled(): Promise<void> {
    while (this.flushing || this.flushScheduled) {
      await (this.flushing ?? new Promise((resolve) => setImmediate(resolve)));
    }
  }

  /** Stops consuming, stores what was received, acknowledges it, and gives up the lease. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    await this.consumption?.stop();
    this.stopping = true;
    clearTimeout(this.storeTimer);
    if (this.unacked.length) this.scheduleFlush();
    await this.settled();
    this.stopped = true;
    this.cache.stop();
    await this.lease.release();
  }

  /**
   * The lease was lost: another aggregator owns the partition and starts from what is stored.
   * Stops consuming without storing anything more; every reading not yet acknowledged is handed
   * back, so the new owner applies it (storing here could overwrite the new owner's snapshot,
   * and acknowledging would keep a reading from it).
   */
  async abandon(): Promise<void> {
    if (this.stopped) return;
    this.abandoned = true;
    clearTimeout(this.storeTimer);
    await this.consumption?.stop();
    await this.settled();
    for (const { batch } of this.unacked) for (const { msg } of batch) msg.nak();
    for (const { msg } of this.pending) msg.nak();
    this.unacked = [];
    this.pending = [];
    this.stopped = true;
    this.cache.stop();
    await this.lease.release();
  }
}

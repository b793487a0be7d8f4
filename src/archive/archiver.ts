import { randomBytes } from "node:crypto";
import { decodeReading } from "../wire/decode-reading.js";
import { PARTITIONS } from "../wire/names.js";
import type { Lease } from "../leases/lease.js";
import { type HeldUnit, type LeaseKeys, SharedUnits } from "../leases/shared-units.js";
import type { ArchiveMessage, ArchivePorts, Consumption, Settlement } from "./ports.js";
import { type ArchivedReading, segmentsOf } from "../wire/archive-layout.js";
import { ARCHIVE_MAX_ACK_PENDING } from "../wire/names.js";

/** The archivers' keys in their own bucket (`ec_archive_state`), apart from the aggregators' leases. */
export const ARCHIVE_LEASE_KEYS: LeaseKeys = { memberPrefix: "member.", unitKey: (partition) => `lease.p${partition}` };

/** How the archiver batches and shares the partitions; the defaults are the (flushed at least every 10 s). */
export interface ArchiverOptions {
  /** Names this archiver among the others, in its leases and in its segments' names: lower-case letters and digits; default 8 random hex digits. */
  readonly id?: string;
  /** How long its leases last without renewal: another archiver takes a partition over this long after its holder died on another host. Default 15 s. */
  readonly leaseTtlMs?: number;
  /** Flush at least this often while readings wait; default 10 s. */
  readonly flushMs?: number;
  /** Flush as soon as this many readings of one partition wait; default DEFAULT_MAX_BATCH. */
  readonly maxBatch?: number;
  /** Tells two flushes' files apart; default the archiver's id, then the wall clock in base 36 and a counter. */
  readonly tag?: () => string;
  /** A flush that failed (its readings are handed back and delivered again), a rebalance that failed, a lease lost. */
  readonly onError?: (err: unknown) => void;
}

export interface ArchiverStats {
  /** Readings written to segments. */
  archived: number;
  /** Readings delivered again that a segment already held: acknowledged, not written twice. */
  alreadyStored: number;
  /** Messages that are no valid reading (the aggregator dead-letters them): acknowledged, not archived. */
  invalid: number;
  segments: number;
  bytes: number;
  flushes: number;
}

interface Pending {
  readonly reading: ArchivedReading;
  readonly settlement: Settlement;
}

/**
 * Per partition held: what waits for the next flush; the stream sequences received and not yet
 * settled (waiting, or in a segment being written: a delivery again meanwhile is not written
 * twice); and those already in a segment but perhaps not yet acknowledged.
 */
interface PartitionState {
  pending: Pending[];
  readonly unsettled: Set<number>;
  readonly stored: Set<number>;
  consumption?: Consumption;
}

export const DEFAULT_FLUSH_MS = 10_000;
/** How long readings of a failed flush wait before they come again (a full disk is not fixed in a moment). */
export const RETRY_DELAY_MS = 5_000;
/**
 * Half of what an archive consumer hands out unacknowledged: a partition is written before its
 * consumer stops delivering, counted per partition so that a busy one never waits for the
 * timer while the others are quiet.
 */
export const DEFAULT_MAX_BATCH = ARCHIVE_MAX_ACK_PENDING / 2;

/**
 * Appends every valid reading of its partitions to Parquet segments (issue 22). Any number of
 * archivers share the partitions through leases of their own (src/leases/shared-units.ts), each
 * writing only the segments of the partitions it holds. A message is acknowledged only once the
 * segment holding it is durable; a message delivered again (a lost ack, a crash between the
 * rename and the acks, a partition taken over from an archiver that died) is recognised by its
 * stream sequence among the segments written since the consumer's ack floor, acknowledged and
 * not written twice.
 */
export class Archiver {
  readonly stats: ArchiverStats = { archived: 0, alreadyStored: 0, invalid: 0, segments: 0, bytes: 0, flushes: 0 };
  /** Names it in its leases and its segments' names. */
  readonly id: string;
  private readonly state = new Map<number, PartitionState>();
  private shared: SharedUnits | undefined;
  private waiting = 0;
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private tags = 0;

  private constructor(
    private readonly ports: ArchivePorts,
    private readonly options: ArchiverOptions,
  ) {
    this.id = options.id ?? randomBytes(4).toString("hex");
  }

  /** Joins the archivers and takes this one's share of the partitions before it resolves. */
  static async start(ports: ArchivePorts, options: ArchiverOptions = {}): Promise<Archiver> {
    const archiver = new Archiver(ports, options);
    archiver.shared = await SharedUnits.join(ports.leases, {
      memberId: archiver.id,
      keys: ARCHIVE_LEASE_KEYS,
      units: PARTITIONS,
      ttlMs: options.leaseTtlMs,
      start: (partition, lease) => archiver.gain(partition, lease),
      onError: options.onError,
    });
    archiver.timer = setInterval(() => void archiver.flush(), options.flushMs ?? DEFAULT_FLUSH_MS);
    return archiver;
  }

  /** The partitions it holds now. */
  get partitions(): number[] {
    return this.shared?.units ?? [];
  }

  /**
   * A partition's lease was taken: before consuming, the sequences its segments hold above the
   * consumer's ack floor (written by this archiver before a restart, or by the one that held it
   * before), so that none delivered again is written twice.
   */
  private async gain(partition: number, lease: Lease): Promise<HeldUnit> {
    try {
      const floor = await this.ports.source.ackFloor(partition);
      const state: PartitionState = { pending: [], unsettled: new Set(), stored: new Set(await this.ports.segments.storedSeqs(partition, floor)) };
      this.state.set(partition, state);
      state.consumption = await this.ports.source.consume(partition, (msg) => this.receive(state, msg));
    } catch (err) {
      this.state.delete(partition);
      await lease.release();
      throw err;
    }
    return { stop: () => this.lose(partition, lease), abandon: () => this.abandon(partition, lease) };
  }

  /** Given up (another archiver's turn, or stopping): writes what it received, then lets the lease go. */
  private async lose(partition: number, lease: Lease): Promise<void> {
    await this.state.get(partition)?.consumption?.stop();
    await this.flush();
    this.state.delete(partition);
    await lease.release();
  }

  /** The lease was lost: another archiver holds the partition, and gets what waits here delivered again. */
  private async abandon(partition: number, lease: Lease): Promise<void> {
    const state = this.state.get(partition);
    this.state.delete(partition);
    if (state) {
      this.waiting -= state.pending.length;
      state.pending = [];
      state.unsettled.clear();
      await state.consumption?.stop();
    }
    await lease.release();
  }

  private receive(state: PartitionState, msg: ArchiveMessage): void {
    if (state.stored.has(msg.seq)) {
      this.stats.alreadyStored += 1;
      msg.ack();
      return;
    }
    // Delivered again (its ack wait ran out) while its first delivery waits for a flush or is
    // being written: that one's ack or nak covers it (the server settles a message by its stream sequence).
    if (state.unsettled.has(msg.seq)) return;
    const decoded = decodeReading(msg.subject, msg.string(), msg.seq);
    if (!decoded.ok) {
      this.stats.invalid += 1;
      msg.ack();
      return;
    }
    state.pending.push({ reading: { communityId: decoded.communityId, meterId: decoded.meterId, state: decoded.state, streamSeq: msg.seq }, settlement: msg.settlement() });
    state.unsettled.add(msg.seq);
    this.waiting += 1;
    if (state.pending.length >= (this.options.maxBatch ?? DEFAULT_MAX_BATCH)) void this.flush();
  }

  /** Writes what waits, one flush at a time; resolves once it is durable and acknowledged (or handed back). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushOnce());
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    if (this.waiting === 0) return;
    this.waiting = 0;
    const tag = this.options.tag?.() ?? `${this.id}-${Date.now().toString(36)}${(this.tags++).toString(36)}`;
    this.stats.flushes += 1;
    await Promise.all([...this.state].map(([partition, state]) => this.flushPartition(partition, state, tag)));
  }

  private async flushPartition(partition: number, state: PartitionState, tag: string): Promise<void> {
    const batch = state.pending;
    if (!batch.length) return;
    state.pending = [];
    const segments = segmentsOf(
      partition,
      batch.map((entry) => entry.reading),
      tag,
    );
    const results = await Promise.allSettled(segments.map((segment) => this.ports.segments.write(segment)));
    // The stream sequences of the segments that failed (mostly none), then each message settled.
    const failed = new Set<number>();
    results.forEach((result, i) => {
      const { readings } = segments[i]!;
      if (result.status === "fulfilled") {
        this.stats.segments += 1;
        this.stats.bytes += result.value;
        this.stats.archived += readings.length;
      } else {
        this.options.onError?.(result.reason);
        for (const { streamSeq } of readings) failed.add(streamSeq);
      }
    });
    for (const { reading, settlement } of batch) {
      state.unsettled.delete(reading.streamSeq);
      if (failed.has(reading.streamSeq)) settlement.nak(RETRY_DELAY_MS);
      else {
        state.stored.add(reading.streamSeq);
        settlement.ack();
      }
    }
    await this.forgetAcknowledged(partition, state);
  }

  /** Drops the sequences at or below the consumer's ack floor: the server never delivers those again. */
  private async forgetAcknowledged(partition: number, state: PartitionState): Promise<void> {
    const floor = await this.ports.source.ackFloor(partition).catch(() => 0);
    for (const seq of state.stored) if (seq <= floor) state.stored.delete(seq);
  }

  /** Stops consuming, writes what waits, gives the leases up and leaves the archivers. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.shared?.leave();
    await this.flush();
  }
}

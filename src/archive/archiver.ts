import { decodeReading } from "../wire/decode-reading.js";
import type { ArchiveMessage, ArchivePorts, Consumption, Settlement } from "./ports.js";
import { type ArchivedReading, segmentsOf } from "../wire/archive-layout.js";
import { ARCHIVE_MAX_ACK_PENDING } from "../wire/names.js";

/** How the archiver batches; the defaults are the (flushed at least every 10 s). */
export interface ArchiverOptions {
  /** The partitions it archives; default all of `partitions`. */
  readonly partitions: readonly number[];
  /** Flush at least this often while readings wait; default 10 s. */
  readonly flushMs?: number;
  /** Flush as soon as this many readings of one partition wait; default DEFAULT_MAX_BATCH. */
  readonly maxBatch?: number;
  /** Tells two flushes' files apart; default the wall clock in base 36 and a counter. */
  readonly tag?: () => string;
  /** A flush that failed: its readings are handed back and delivered again. */
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
 * Per partition: what waits for the next flush; the stream sequences received and not yet
 * settled (waiting, or in a segment being written: a delivery again meanwhile is not written
 * twice); and those already in a segment but perhaps not yet acknowledged.
 */
interface PartitionState {
  pending: Pending[];
  readonly unsettled: Set<number>;
  readonly stored: Set<number>;
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
 * Appends every valid reading of its partitions to Parquet segments (issue 22). A message is
 * acknowledged only once the segment holding it is durable; a message delivered again (a lost
 * ack, a crash between the rename and the acks) is recognised by its stream sequence among the
 * segments written since the consumer's ack floor, acknowledged and not written twice.
 */
export class Archiver {
  readonly stats: ArchiverStats = { archived: 0, alreadyStored: 0, invalid: 0, segments: 0, bytes: 0, flushes: 0 };
  private readonly state = new Map<number, PartitionState>();
  private readonly consumptions: Consumption[] = [];
  private waiting = 0;
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private tags = 0;

  private constructor(
    private readonly ports: ArchivePorts,
    private readonly options: ArchiverOptions,
  ) {}

  static async start(ports: ArchivePorts, options: ArchiverOptions): Promise<Archiver> {
    const archiver = new Archiver(ports, options);
    try {
      for (const partition of options.partitions) {
        const floor = await ports.source.ackFloor(partition);
        const stored = new Set(await ports.segments.storedSeqs(partition, floor));
        archiver.state.set(partition, { pending: [], unsettled: new Set(), stored });
        archiver.consumptions.push(await ports.source.consume(partition, (msg) => archiver.receive(partition, msg)));
      }
    } catch (err) {
      await archiver.stop();
      throw err;
    }
    archiver.timer = setInterval(() => void archiver.flush(), options.flushMs ?? DEFAULT_FLUSH_MS);
    return archiver;
  }

  private receive(partition: number, msg: ArchiveMessage): void {
    const state = this.state.get(partition)!;
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
    const tag = this.options.tag?.() ?? `${Date.now().toString(36)}${(this.tags++).toString(36)}`;
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

  /** Stops consuming, writes what waits, and stops. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.consumptions.splice(0).map((consumption) => consumption.stop()));
    await this.flush();
  }
}

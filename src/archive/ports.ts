import type { LeaseStore } from "../leases/lease.js";
import type { Segment } from "../wire/archive-layout.js";

/**
 * What the archiver needs from the world (issue 22), named for its purpose. The NATS adapter
 * (`src/nats/archive-readings.ts`, `src/nats/kv-entries.ts`) and the DuckDB one
 * (`src/duckdb/parquet-segments.ts`) implement these once; unit tests use hand-written fakes
 * (`test/helpers/archive-fakes.ts`, `test/helpers/lease-fakes.ts`).
 */

/** A message of a partition's stream, delivered to the archiver's own durable consumer. */
export interface ArchiveMessage {
  readonly subject: string;
  /** Its sequence in its stream. */
  readonly seq: number;
  string(): string;
  ack(): void;
  /** Hands it back, to be delivered again after `delayMs`. */
  nak(delayMs?: number): void;
}

export interface Consumption {
  stop(): Promise<void>;
}

/** The partitions' streams, through the archiver's consumers (`archive-p<n>`). */
export interface ArchiveSource {
  /** The stream sequence up to which the consumer has every message acknowledged: none at or below it is delivered again. */
  ackFloor(partition: number): Promise<number>;
  consume(partition: number, onMessage: (msg: ArchiveMessage) => void): Promise<Consumption>;
}

/** The segments on disk. */
export interface SegmentStore {
  /** The stream sequences of `partition` held by its segments, of those that may hold one above `aboveSeq`. */
  storedSeqs(partition: number, aboveSeq: number): Promise<number[]>;
  /** Writes a segment durably: under a temporary name, synced, renamed into place, the folder synced. Resolves its size in bytes. */
  write(segment: Segment): Promise<number>;
}

export interface ArchivePorts {
  readonly source: ArchiveSource;
  readonly segments: SegmentStore;
  /** The archivers' leases and members (`ec_archive_state`). */
  readonly leases: LeaseStore;
}

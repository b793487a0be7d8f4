import type { ArchiveFile, Segment } from "../wire/archive-layout.js";
import type { ExportRange } from "./export-plan.js";

/**
 * What the archiver and the export need from the world (issue 22), named for its purpose. The
 * NATS adapter (`src/nats/archive-readings.ts`) and the DuckDB ones (`src/duckdb/parquet-segments.ts`,
 * `src/duckdb/parquet-export.ts`) implement these once; unit tests use hand-written fakes (`test/helpers/archive-fakes.ts`).
 */

/** Settles a delivered message. */
export interface Settlement {
  ack(): void;
  /** Hands it back, to be delivered again after `delayMs`. */
  nak(delayMs?: number): void;
}

/** A message of a partition's stream, delivered to the archiver's own durable consumer. */
export interface ArchiveMessage extends Settlement {
  readonly subject: string;
  /** Its sequence in its stream. */
  readonly seq: number;
  string(): string;
  /**
   * Its settlement apart from the message (its payload, headers, delivery info): what a reading
   * waiting for its segment keeps, up to 80,000 at a time (bench/README.md, row 22).
   */
  settlement(): Settlement;
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
}

/** A file an export wrote. */
export interface ExportedFile {
  readonly rows: number;
  readonly bytes: number;
}

/**
 * An archive's files, read, and an export's directory, written: each file under a temporary
 * name, synced and renamed into place. Paths are relative to the archive and to the export.
 */
export interface ExportFiles {
  /** The communities the archive holds (their folders), and its data files. */
  list(): Promise<{ readonly communities: readonly string[]; readonly files: readonly ArchiveFile[] }>;
  /** Copies a file whole, as it is. */
  copy(source: string, target: string): Promise<ExportedFile>;
  /** Writes the rows of `source` whose measured_at lies in `range`, with all its columns; writes nothing (undefined) when none does. An abort interrupts it. */
  filter(source: string, target: string, range: ExportRange, signal?: AbortSignal): Promise<ExportedFile | undefined>;
}

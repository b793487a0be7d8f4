import type { LeaseStore } from "../leases/lease.js";
import type { ArchiveDay, ArchiveFile, Segment } from "../wire/archive-layout.js";
import type { ExportRange } from "./export-plan.js";

/**
 * What the archiver, the compactor and the export need from the world (issue 22), named for
 * their purpose. The NATS adapters (`src/nats/archive-readings.ts`, `src/nats/kv-entries.ts`)
 * and the DuckDB ones (`src/duckdb/parquet-segments.ts`, `parquet-days.ts`, `parquet-export.ts`)
 * implement these once; unit tests use hand-written fakes (`test/helpers/archive-fakes.ts`,
 * `test/helpers/lease-fakes.ts`).
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

/**
 * The archive's day folders, for compaction and retention (`src/archive/compactor.ts`). Paths are
 * relative to the archive's directory. Each step is its own call so that the compactor owns their
 * order, which is what makes a crash at any point lose and duplicate nothing.
 */
export interface DayStore {
  /** Every community's day folders. */
  days(): Promise<ArchiveDay[]>;
  /** Writes the rows of the segments `inputs` to `temporary`, each stream sequence once, and syncs it. */
  merge(inputs: readonly string[], temporary: string): Promise<void>;
  /**
   * Writes the quarter hours of `dates` (meter_energy_15m's rows whose bucket lies in one of these
   * UTC days), computed over the readings files `readings` (a day's and its neighbours'), durably
   * to `target`: under a temporary name, synced, renamed into place, the folder synced.
   */
  writeEnergy(readings: readonly string[], dates: readonly string[], target: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Flushes a folder's entries to the disk: what makes a rename or a removal durable. */
  syncFolder(folder: string): Promise<void>;
  remove(path: string): Promise<void>;
  /** Removes a day's folder with all it holds, and its energy folder, durably. */
  removeDay(communityId: string, date: string): Promise<void>;
}

export interface ArchivePorts {
  readonly source: ArchiveSource;
  readonly segments: SegmentStore;
  /** The archivers' leases and members (`ec_archive_state`). */
  readonly leases: LeaseStore;
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

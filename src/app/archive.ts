import { Archiver, type ArchiverOptions } from "../archive/archiver.js";
import { Compactor, type CompactorOptions } from "../archive/compactor.js";
import { type ExportOptions, type ExportRequest, type ExportSummary, exportArchive } from "../archive/exporter.js";
import type { ConnectionSecurity } from "../config/connection-settings.js";
import { ArchiveQuery } from "../duckdb/archive-query.js";
import { ParquetDays } from "../duckdb/parquet-days.js";
import { ParquetExport } from "../duckdb/parquet-export.js";
import { ParquetSegments } from "../duckdb/parquet-segments.js";
import { natsArchiveSource } from "../nats/archive-readings.js";
import { openKvEntries } from "../nats/kv-entries.js";
import { ARCHIVE_STATE_BUCKET, PARTITIONS } from "../wire/names.js";
import { ensureReadingTopology, openNats } from "./adapters.js";
import { systemClock } from "./clock.js";

/** A running archiver (issue 22) with its own NATS connection and DuckDB. */
export interface ArchiveService {
  readonly archiver: Archiver;
  /** Compacts its partitions' finished days and removes expired ones. */
  readonly compactor: Compactor;
  /** The consumers it created on start. */
  readonly created: readonly string[];
  stop(): Promise<void>;
}

/** How its days are looked after; the clock defaults to the system's. */
export type DayOptions = Omit<CompactorOptions, "partitions" | "clock"> & Partial<Pick<CompactorOptions, "clock">>;

/**
 * Connects, ensures the streams, the archivers' consumers and their lease bucket, archives the
 * partitions it holds into `dir`, and compacts those partitions' finished days.
 */
export async function startArchiving(
  natsUrl: string,
  dir: string,
  options: { readonly security?: ConnectionSecurity; readonly days?: DayOptions } & ArchiverOptions = {},
): Promise<ArchiveService> {
  const nc = await openNats(natsUrl, "ecwatch-archive", options.security);
  let segments: ParquetSegments | undefined;
  let days: ParquetDays | undefined;
  try {
    const jsm = await ensureReadingTopology(nc);
    const partitions = Array.from({ length: PARTITIONS }, (_, partition) => partition);
    const { source, created } = await natsArchiveSource(nc, jsm, partitions);
    const leases = await openKvEntries(nc, jsm, ARCHIVE_STATE_BUCKET);
    segments = await ParquetSegments.open(dir);
    const archiver = await Archiver.start({ source, segments, leases }, options);
    // Started after the archiver has read the stream sequences its segments hold; it looks after the partitions held at each pass.
    days = await ParquetDays.open(dir);
    const compactor = Compactor.start(days, { clock: systemClock, ...options.days, partitions: () => archiver.partitions });
    const opened = segments;
    const openedDays = days;
    let stopping: Promise<void> | undefined;
    return {
      archiver,
      compactor,
      created,
      stop: () =>
        (stopping ??= (async () => {
          try {
            await compactor.stop();
            await archiver.stop();
          } finally {
            openedDays.close();
            opened.close();
            await nc.drain().catch(() => undefined);
          }
        })()),
    };
  } catch (err) {
    days?.close();
    segments?.close();
    await nc.close();
    throw err;
  }
}

/** Removes the archive's segments from `dir` (up --fresh); resolves how many. */
export const wipeArchive = (dir: string): Promise<number> => ParquetSegments.removeAll(dir);

/** Read-only SQL over the archive in `dir`. */
export const openArchiveQuery = (dir: string): Promise<ArchiveQuery> => ArchiveQuery.open(dir);

/** Exports the archive in `dir` over a range into `out` (new or empty), in the same layout. */
export async function exportArchiveTo(dir: string, out: string, request: ExportRequest, options: ExportOptions = {}): Promise<ExportSummary> {
  const files = await ParquetExport.open(dir, out);
  try {
    return await exportArchive(files, request, options);
  } finally {
    files.close();
  }
}

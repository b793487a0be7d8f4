import { jetstream } from "@nats-io/jetstream";
import { Archiver, type ArchiverOptions } from "../archive/archiver.js";
import { type ExportOptions, type ExportRequest, type ExportSummary, exportArchive } from "../archive/exporter.js";
import type { ConnectionSecurity } from "../config/connection-settings.js";
import { ArchiveQuery } from "../duckdb/archive-query.js";
import { ParquetExport } from "../duckdb/parquet-export.js";
import { ParquetSegments } from "../duckdb/parquet-segments.js";
import { natsArchiveSource } from "../nats/archive-readings.js";
import { PARTITIONS } from "../wire/names.js";
import { ensureReadingTopology, openNats } from "./adapters.js";

/** A running archiver (issue 22) with its own NATS connection and DuckDB. */
export interface ArchiveService {
  readonly archiver: Archiver;
  /** The consumers it created on start. */
  readonly created: readonly string[];
  stop(): Promise<void>;
}

/** Connects, ensures the streams and the archiver's consumers, and archives every partition into `dir`. */
export async function startArchiving(natsUrl: string, dir: string, options: { readonly security?: ConnectionSecurity } & Omit<ArchiverOptions, "partitions"> = {}): Promise<ArchiveService> {
  const nc = await openNats(natsUrl, "ecwatch-archive", options.security);
  let segments: ParquetSegments | undefined;
  try {
    const jsm = await ensureReadingTopology(nc);
    const partitions = Array.from({ length: PARTITIONS }, (_, partition) => partition);
    const { source, created } = await natsArchiveSource(nc, jsm, partitions);
    segments = await ParquetSegments.open(dir);
    const archiver = await Archiver.start({ source, segments }, { ...options, partitions });
    const opened = segments;
    let stopping: Promise<void> | undefined;
    return {
      archiver,
      created,
      stop: () =>
        (stopping ??= (async () => {
          try {
            await archiver.stop();
          } finally {
            opened.close();
            await nc.drain().catch(() => undefined);
          }
        })()),
    };
  } catch (err) {
    segments?.close();
    await nc.close();
    throw err;
  }
}

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

import { jetstream } from "@nats-io/jetstream";
import { Archiver, type ArchiverOptions } from "../archive/archiver.js";
import type { ConnectionSecurity } from "../config/connection-settings.js";
import { ArchiveQuery } from "../duckdb/archive-query.js";
import { ParquetSegments } from "../duckdb/parquet-segments.js";
import { natsArchiveSource } from "../nats/archive-readings.js";
import { openKvEntries } from "../nats/kv-entries.js";
import { ARCHIVE_STATE_BUCKET, PARTITIONS } from "../wire/names.js";
import { ensureReadingTopology, openNats } from "./adapters.js";

/** A running archiver (issue 22) with its own NATS connection and DuckDB. */
export interface ArchiveService {
  readonly archiver: Archiver;
  /** The consumers it created on start. */
  readonly created: readonly string[];
  stop(): Promise<void>;
}

/** Connects, ensures the streams, the archivers' consumers and their lease bucket, and archives the partitions it holds into `dir`. */
export async function startArchiving(natsUrl: string, dir: string, options: { readonly security?: ConnectionSecurity } & ArchiverOptions = {}): Promise<ArchiveService> {
  const nc = await openNats(natsUrl, "ecwatch-archive", options.security);
  let segments: ParquetSegments | undefined;
  try {
    const jsm = await ensureReadingTopology(nc);
    const partitions = Array.from({ length: PARTITIONS }, (_, partition) => partition);
    const { source, created } = await natsArchiveSource(jetstream(nc), jsm, partitions);
    const leases = await openKvEntries(nc, jsm, ARCHIVE_STATE_BUCKET);
    segments = await ParquetSegments.open(dir);
    const archiver = await Archiver.start({ source, segments, leases }, options);
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

/** Removes the archive's segments from `dir` (up --fresh); resolves how many. */
export const wipeArchive = (dir: string): Promise<number> => ParquetSegments.removeAll(dir);

/** Read-only SQL over the archive in `dir`. */
export const openArchiveQuery = (dir: string): Promise<ArchiveQuery> => ArchiveQuery.open(dir);

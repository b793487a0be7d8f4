import { readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { isValidId } from "../domain/ids.js";
import { type ArchiveDay, COMMUNITY_FOLDER_PREFIX, DATE_FOLDER_PREFIX, dayFolder, energyFolder } from "../wire/archive-layout.js";
import { syncPath, writeDurably } from "./durable-file.js";
import { BUCKET_DATE, meterEnergySelect, readingsSource } from "./energy-views.js";
import { sqlString } from "./parquet-segments.js";

/**
 * The archive's day folders on disk, and a day's segments merged into one Parquet file by an
 * in-memory DuckDB (issue 22). The merged file has the segments' columns, `stream_seq` included,
 * so that a restarted archiver still finds every stream sequence it holds. A finished day's
 * quarter hours are written beside, in its energy folder, by the views' own SQL.
 */

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The folders under `path` whose names are `<prefix><value>`, as values that `valid` accepts. */
async function foldersNamed(path: string, prefix: string, valid: (value: string) => boolean): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true });
  return entries.filter((entry) => entry.isDirectory() && entry.name.startsWith(prefix)).map((entry) => entry.name.slice(prefix.length)).filter(valid);
}

const namesIn = (folder: string): Promise<string[]> => readdir(folder).catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? [] : Promise.reject(err)));

/** Every community's day folders in the archive `dir`, with the files of each and of its energy folder. */
export async function archiveDays(dir: string): Promise<ArchiveDay[]> {
  const days: ArchiveDay[] = [];
  for (const communityId of await foldersNamed(dir, COMMUNITY_FOLDER_PREFIX, isValidId)) {
    const community = join(dir, `${COMMUNITY_FOLDER_PREFIX}${communityId}`);
    for (const date of await foldersNamed(community, DATE_FOLDER_PREFIX, (value) => DATE.test(value))) {
      days.push({ communityId, date, files: await readdir(join(dir, dayFolder(communityId, date))), energy: await namesIn(join(dir, energyFolder(communityId, date))) });
    }
  }
  return days;
}

/** The day store of compaction and retention (`DayStore`, src/archive/ports.ts). */
export class ParquetDays {
  private constructor(
    private readonly dir: string,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  /** Over the archive in `dir` (made by ParquetSegments.open). */
  static async open(dir: string): Promise<ParquetDays> {
    const instance = await DuckDBInstance.create(":memory:");
    return new ParquetDays(dir, instance, await instance.connect());
  }

  days(): Promise<ArchiveDay[]> {
    return archiveDays(this.dir);
  }

  async merge(inputs: readonly string[], temporary: string): Promise<void> {
    const files = inputs.map((input) => sqlString(join(this.dir, input))).join(", ");
    const target = join(this.dir, temporary);
    try {
      // The folders name community_id and date: they are no columns of the files. A stream sequence in two inputs (a pass that crashed after its rename) is kept once.
      await this.connection.run(
        `COPY (SELECT * FROM read_parquet([${files}], hive_partitioning = false) QUALIFY row_number() OVER (PARTITION BY stream_seq) = 1 ORDER BY meter_id, measured_at) TO ${sqlString(target)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      await syncPath(target);
    } catch (err) {
      await rm(target, { force: true });
      throw err;
    }
  }

  async writeEnergy(readings: readonly string[], dates: readonly string[], target: string): Promise<void> {
    const files = `[${readings.map((path) => sqlString(join(this.dir, path))).join(", ")}]`;
    await writeDurably(this.dir, join(this.dir, target), async (temporary) => {
      await this.connection.run(
        `COPY (SELECT * FROM (${meterEnergySelect(readingsSource(files))}) WHERE ${BUCKET_DATE} IN (${dates.map((date) => `${sqlString(date)}::DATE`).join(", ")}) ORDER BY meter_id, bucket_start) TO ${sqlString(temporary)} (FORMAT parquet, COMPRESSION zstd)`,
      );
    });
  }

  rename(from: string, to: string): Promise<void> {
    return rename(join(this.dir, from), join(this.dir, to));
  }

  syncFolder(folder: string): Promise<void> {
    return syncPath(join(this.dir, folder));
  }

  /** Removes a file; one already gone (removed by a pass that crashed before its folder's sync) is no error. */
  remove(path: string): Promise<void> {
    return rm(join(this.dir, path), { force: true });
  }

  async removeDay(communityId: string, date: string): Promise<void> {
    await rm(join(this.dir, energyFolder(communityId, date)), { recursive: true, force: true });
    await rm(join(this.dir, dayFolder(communityId, date)), { recursive: true, force: true });
    await syncPath(join(this.dir, `${COMMUNITY_FOLDER_PREFIX}${communityId}`));
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

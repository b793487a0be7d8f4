import { copyFile, readdir, realpath, stat } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { UsageError } from "../errors.js";
import { type ArchiveFile, parseArchivePath } from "../wire/archive-layout.js";
import { writeDurably } from "./durable-file.js";
import { sqlString } from "./parquet-segments.js";

/**
 * An export's files (issue 22): a whole day's file is copied byte for byte; a cut day's file is
 * filtered by an in-memory DuckDB (`COPY … TO … (FORMAT parquet)` with a WHERE on measured_at)
 * with all its columns, `stream_seq` included, so that the export is itself an archive that
 * `ecwatch query --dir` and any Parquet engine read. Every file appears by rename, whole.
 */

/** A file written: its rows and bytes. */
interface Written {
  readonly rows: number;
  readonly bytes: number;
}

const COMMUNITY_FOLDER = /^community_id=([A-Za-z0-9_-]{1,64})$/;

/** The path, resolved through symbolic links as far as it exists. */
async function realPath(path: string): Promise<string> {
  const absolute = resolve(path);
  try {
    return await realpath(absolute);
  } catch {
    const parent = resolve(absolute, "..");
    return parent === absolute ? absolute : join(await realPath(parent), absolute.slice(parent.length + 1));
  }
}

const isWithin = (path: string, folder: string): boolean => path === folder || path.startsWith(folder.endsWith(sep) ? folder : `${folder}${sep}`);

/** A timestamp literal of DuckDB from milliseconds since the epoch. */
const timestampTz = (ms: number): string => `TIMESTAMPTZ ${sqlString(new Date(ms).toISOString())}`;

/** The export port of the archive service (`ExportFiles`, src/archive/ports.ts). */
export class ParquetExport {
  private constructor(
    private readonly dir: string,
    private readonly out: string,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  /** Refuses a --dir that is no folder, an --out inside it, and an --out that is not empty. --out is created with its first file: a refused export leaves nothing behind. */
  static async open(dir: string, out: string): Promise<ParquetExport> {
    const folder = await stat(dir).catch(() => undefined);
    if (!folder?.isDirectory()) throw new UsageError(`--dir ${dir}: there is no archive there (no such folder).`);
    const [dirPath, outPath] = await Promise.all([realPath(dir), realPath(out)]);
    if (isWithin(outPath, dirPath)) throw new UsageError(`--out ${out} lies inside the archive (--dir ${dir}); choose a folder outside it, or its readers would read the export as more readings.`);
    const entries = await readdir(out).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return [];
      if (err.code === "ENOTDIR") throw new UsageError(`--out ${out} is a file; give a folder (new or empty).`);
      throw err;
    });
    if (entries.length) throw new UsageError(`--out ${out} is not empty; give a new or empty folder, so that the export holds this range's readings and nothing else.`);
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    return new ParquetExport(dir, out, instance, connection);
  }

  async list(): Promise<{ readonly communities: readonly string[]; readonly files: readonly ArchiveFile[] }> {
    const entries = (await readdir(this.dir, { recursive: true })).map((entry) => entry.split(sep).join("/"));
    const communities = entries.flatMap((entry) => COMMUNITY_FOLDER.exec(entry)?.[1] ?? []).sort();
    const files = entries.flatMap((entry) => parseArchivePath(entry) ?? []);
    return { communities, files };
  }

  private async rowsOf(path: string): Promise<number> {
    const reader = await this.connection.runAndReadAll(`SELECT sum(num_rows) FROM parquet_file_metadata(${sqlString(path)})`);
    return Number(reader.getRows()[0]?.[0] ?? 0);
  }

  async copy(source: string, target: string): Promise<Written> {
    const from = join(this.dir, source);
    // The row count comes from the file's footer, not from reading it.
    const rows = await this.rowsOf(from);
    const bytes = await writeDurably(this.out, join(this.out, target), (temporary) => copyFile(from, temporary));
    return { rows, bytes };
  }

  async filter(source: string, target: string, range: { readonly fromMs: number; readonly toMs: number }, signal?: AbortSignal): Promise<Written | undefined> {
    // Not the folders' Hive columns (community_id, date): an exported file holds what a segment holds.
    const selection = `FROM read_parquet(${sqlString(join(this.dir, source))}, hive_partitioning = false) WHERE measured_at >= ${timestampTz(range.fromMs)} AND measured_at < ${timestampTz(range.toMs)}`;
    const interrupt = (): void => this.connection.interrupt();
    signal?.addEventListener("abort", interrupt, { once: true });
    try {
      const counted = await this.connection.runAndReadAll(`SELECT count(*) ${selection}`);
      const rows = Number(counted.getRows()[0]![0]);
      if (rows === 0) return undefined;
      const bytes = await writeDurably(this.out, join(this.out, target), async (temporary) => {
        signal?.throwIfAborted();
        await this.connection.run(`COPY (SELECT * ${selection}) TO ${sqlString(temporary)} (FORMAT parquet, COMPRESSION zstd)`);
      });
      return { rows, bytes };
    } finally {
      signal?.removeEventListener("abort", interrupt);
    }
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

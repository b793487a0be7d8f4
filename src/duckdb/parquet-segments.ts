import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { DuckDBInstance, DuckDBTimestampTZValue, type DuckDBConnection } from "@duckdb/node-api";
import { ENERGY_FOLDER, type Segment, parseSegmentName } from "../wire/archive-layout.js";
import { writeDurably } from "./durable-file.js";

/**
 * The archive's segments as Parquet files written by an in-memory DuckDB (issue 22). A file
 * carries the readings' columns but not `community_id` and `date`, which its folder names
 * (Hive partitioning), and `stream_seq`, the reading's place in its partition's stream, which
 * the `readings` view leaves out: a restarted archiver reads it to write nothing twice.
 */

const STAGING = "segment_rows";
const STAGING_COLUMNS = "meter_id VARCHAR, measured_at TIMESTAMPTZ, gen_w INTEGER, con_w INTEGER, seq BIGINT, interval_ms INTEGER, averaged BOOLEAN, stream_seq BIGINT";

/** A single-quoted SQL string literal. */
export const sqlString = (value: string): string => `'${value.replaceAll("'", "''")}'`;

export class ParquetSegments {
  /** One write at a time: they share the connection and its staging table. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(dir: string): Promise<ParquetSegments> {
    await mkdir(dir, { recursive: true });
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    await connection.run(`CREATE TABLE ${STAGING} (${STAGING_COLUMNS})`);
    return new ParquetSegments(dir, instance, connection);
  }

  /**
   * Removes every segment (and temporary file) under `dir` and the quarter hours computed from them
   * (the energy folder), nothing else: after the streams are wiped (`up --fresh`) their stream
   * sequences start again at 1, and a segment left behind would make the archiver take new
   * readings for ones it already holds. Resolves how many segments it removed.
   */
  static async removeAll(dir: string): Promise<number> {
    await rm(join(dir, ENERGY_FOLDER), { recursive: true, force: true });
    const entries = await readdir(dir, { recursive: true }).catch((err: NodeJS.ErrnoException) => (err.code === "ENOENT" ? [] : Promise.reject(err)));
    const files = entries.filter((entry) => {
      const name = entry.slice(entry.lastIndexOf("/") + 1);
      return parseSegmentName(name) !== undefined || parseSegmentName(name.replace(/\.tmp$/, "")) !== undefined;
    });
    for (const file of files) await rm(join(dir, file), { force: true });
    return files.length;
  }

  /** The segment files of `partition` (relative paths) whose last stream sequence is above `aboveSeq`. */
  private async filesAbove(partition: number, aboveSeq: number): Promise<string[]> {
    const entries = await readdir(this.dir, { recursive: true });
    return entries.filter((entry) => {
      const name = parseSegmentName(entry.slice(entry.lastIndexOf("/") + 1));
      return name !== undefined && name.partition === partition && name.lastSeq > aboveSeq;
    });
  }

  async storedSeqs(partition: number, aboveSeq: number): Promise<number[]> {
    const files = await this.filesAbove(partition, aboveSeq);
    if (!files.length) return [];
    const list = files.map((file) => sqlString(join(this.dir, file))).join(", ");
    const reader = await this.connection.runAndReadAll(`SELECT stream_seq FROM read_parquet([${list}]) WHERE stream_seq > ${Math.floor(aboveSeq)}`);
    return reader.getRows().map(([seq]) => Number(seq));
  }

  write(segment: Segment): Promise<number> {
    const written = this.queue.then(() => this.writeNow(segment));
    this.queue = written.catch(() => undefined);
    return written;
  }

  private async writeNow(segment: Segment): Promise<number> {
    await this.connection.run(`DELETE FROM ${STAGING}`);
    const appender = await this.connection.createAppender(STAGING);
    for (const { meterId, state, streamSeq } of segment.readings) {
      appender.appendVarchar(meterId);
      appender.appendTimestampTZ(new DuckDBTimestampTZValue(BigInt(state.measuredAtMs) * 1000n));
      appender.appendInteger(state.genW);
      appender.appendInteger(state.conW);
      appender.appendBigInt(BigInt(state.seq));
      if (state.intervalMs === undefined) appender.appendNull();
      else appender.appendInteger(state.intervalMs);
      if (state.averaged === undefined) appender.appendNull();
      else appender.appendBoolean(state.averaged);
      appender.appendBigInt(BigInt(streamSeq));
      appender.endRow();
    }
    appender.closeSync();
    return writeDurably(this.dir, join(this.dir, segment.path), (temporary) =>
      this.connection.run(`COPY (SELECT * FROM ${STAGING} ORDER BY meter_id, measured_at) TO ${sqlString(temporary)} (FORMAT parquet, COMPRESSION zstd)`).then(() => undefined),
    );
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

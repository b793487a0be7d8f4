import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  DuckDBBooleanType,
  DuckDBDataChunk,
  DuckDBDoubleType,
  DuckDBInstance,
  DuckDBIntegerType,
  DuckDBVarCharType,
  DuckDBVector,
  type DuckDBAppender,
  type DuckDBConnection,
} from "@duckdb/node-api";
import { ENERGY_FOLDER, type Segment, parseSegmentName } from "../wire/archive-layout.js";
import { writeDurably } from "./durable-file.js";

/**
 * The archive's segments as Parquet files written by an in-memory DuckDB (issue 22). A file
 * carries the readings' columns but not `community_id` and `date`, which its folder names
 * (Hive partitioning), and `stream_seq`, the reading's place in its partition's stream, which
 * the `readings` view leaves out: a restarted archiver reads it to write nothing twice.
 *
 * A segment's rows reach DuckDB a data chunk (2,048 rows) at a time, column by column into the
 * chunk's vectors, not value by value through the appender: a call into DuckDB per value and a
 * value object (and a bigint) per timestamp and sequence was ≈ 4.5 µs a reading, the chunks
 * ≈ 2 µs (bench/README.md, row 20). Numbers are staged as DOUBLE (every one is a safe integer,
 * so exact) and typed on the way out to Parquet.
 */

const STAGING = "segment_rows";
const STAGING_COLUMNS = "meter_id VARCHAR, measured_at_ms DOUBLE, gen_w INTEGER, con_w INTEGER, seq DOUBLE, interval_ms INTEGER, averaged BOOLEAN, stream_seq DOUBLE";
const STAGING_TYPES = [
  DuckDBVarCharType.instance,
  DuckDBDoubleType.instance,
  DuckDBIntegerType.instance,
  DuckDBIntegerType.instance,
  DuckDBDoubleType.instance,
  DuckDBIntegerType.instance,
  DuckDBBooleanType.instance,
  DuckDBDoubleType.instance,
];
/** The segment's columns (the archive's schema) from the staged ones, in the order readers see. */
const SEGMENT_COLUMNS =
  "meter_id, make_timestamptz(CAST(measured_at_ms AS BIGINT) * 1000) AS measured_at, gen_w, con_w, CAST(seq AS BIGINT) AS seq, interval_ms, averaged, CAST(stream_seq AS BIGINT) AS stream_seq";

/** Appends `readings` to the appender's table (STAGING_COLUMNS), a data chunk at a time. */
function appendReadings(appender: DuckDBAppender, readings: Segment["readings"]): void {
  const chunk = DuckDBDataChunk.create(STAGING_TYPES);
  const size = DuckDBVector.standardSize();
  for (let start = 0; start < readings.length; start += size) {
    const rows = Math.min(size, readings.length - start);
    chunk.reset();
    chunk.rowCount = rows;
    const [meterId, measuredAtMs, genW, conW, seq, intervalMs, averaged, streamSeq] = STAGING_TYPES.map((_, column) => chunk.getColumnVector(column));
    for (let row = 0; row < rows; row += 1) {
      const reading = readings[start + row]!;
      const { state } = reading;
      meterId!.setItem(row, reading.meterId);
      measuredAtMs!.setItem(row, state.measuredAtMs);
      genW!.setItem(row, state.genW);
      conW!.setItem(row, state.conW);
      seq!.setItem(row, state.seq);
      intervalMs!.setItem(row, state.intervalMs ?? null);
      averaged!.setItem(row, state.averaged ?? null);
      streamSeq!.setItem(row, reading.streamSeq);
    }
    for (let column = 0; column < STAGING_TYPES.length; column += 1) chunk.getColumnVector(column).flush();
    appender.appendDataChunk(chunk);
  }
}

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
    appendReadings(appender, segment.readings);
    appender.closeSync();
    return writeDurably(this.dir, join(this.dir, segment.path), (temporary) =>
      this.connection.run(`COPY (SELECT ${SEGMENT_COLUMNS} FROM ${STAGING} ORDER BY meter_id, measured_at) TO ${sqlString(temporary)} (FORMAT parquet, COMPRESSION zstd)`).then(() => undefined),
    );
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

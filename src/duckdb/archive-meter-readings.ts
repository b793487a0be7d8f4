import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import type { ArchivedReadings } from "../energy/meter-history.js";
import type { RuleReading } from "../energy/meter-integrator.js";
import { SEGMENT_SUFFIX, communityFolder, dayFolder, utcDate } from "../wire/archive-layout.js";
import { sqlString } from "./parquet-segments.js";

/**
 * A meter's readings read back from the archive's Parquet segments (issue 23), for its history:
 * an in-memory DuckDB that only reads, over the files of the community's day folders the span
 * needs (listed at each query: a segment renamed into place since is read too). A reading the
 * archive holds twice, or two of one instant, count once: the highest seq, as the aggregator keeps.
 */

/** The span of data time a query reads, and the readings around it it asks for (MeterReadingsQuery of src/api/ports.ts). */
export interface ReadingsWindow {
  readonly fromMs: number;
  readonly toMs: number;
  readonly before: number;
  readonly after: number;
  readonly reachMs: number;
}

const isSegment = (name: string): boolean => name.endsWith(SEGMENT_SUFFIX);
const NO_FOLDER = new Set(["ENOENT", "ENOTDIR"]);

const missing = (err: unknown): boolean => NO_FOLDER.has((err as NodeJS.ErrnoException).code ?? "");

/** The entries of a folder; none when it does not exist. */
const entries = (path: string): Promise<string[]> => readdir(path).catch((err: unknown) => (missing(err) ? [] : Promise.reject(err)));

const isFolder = (path: string): Promise<boolean> => stat(path).then((found) => found.isDirectory(), (err: unknown) => (missing(err) ? false : Promise.reject(err)));

export class ArchiveMeterReadings {
  private constructor(
    /** The archive's directory. */
    readonly location: string,
    private readonly instance: DuckDBInstance,
  ) {}

  static async open(dir: string): Promise<ArchiveMeterReadings> {
    return new ArchiveMeterReadings(dir, await DuckDBInstance.create(":memory:"));
  }

  /** The community's day folders (YYYY-MM-DD) that hold segments, oldest first, each with its segment files. */
  private async days(communityId: string): Promise<Array<{ date: string; files: string[] }>> {
    const dates = (await entries(join(this.location, communityFolder(communityId)))).filter((name) => name.startsWith("date=")).map((name) => name.slice("date=".length)).sort();
    const days = await Promise.all(
      dates.map(async (date) => {
        const folder = join(this.location, dayFolder(communityId, date));
        return { date, files: (await entries(folder)).filter(isSegment).map((name) => join(folder, name)) };
      }),
    );
    return days.filter((day) => day.files.length > 0);
  }

  /** Runs one query on a connection of its own (requests may overlap), and returns its rows. */
  private async rows(sql: string): Promise<unknown[][]> {
    const connection = await this.instance.connect();
    try {
      return (await connection.runAndReadAll(sql)).getRows();
    } finally {
      connection.closeSync();
    }
  }

  async around(communityId: string, meterId: string, window: ReadingsWindow): Promise<ArchivedReadings | undefined> {
    if (!(await isFolder(this.location))) return undefined;
    const days = await this.days(communityId);
    const newestDay = days.at(-1);
    if (!newestDay) return { readings: [], newestMs: Number.NEGATIVE_INFINITY };
    const lowMs = window.fromMs - window.reachMs;
    const highMs = window.toMs + window.reachMs;
    const [first, last] = [utcDate(lowMs), utcDate(highMs)];
    const files = days.filter(({ date }) => date >= first && date <= last).flatMap((day) => day.files);
    const [newest] = await this.rows(`SELECT max(epoch_ms(measured_at)) FROM read_parquet(${list(newestDay.files)})`);
    const newestMs = newest?.[0] === null || newest?.[0] === undefined ? Number.NEGATIVE_INFINITY : Number(newest[0]);
    if (!files.length) return { readings: [], newestMs };
    const rows = await this.rows(`
      WITH r AS (
        SELECT epoch_ms(measured_at) AS at_ms, gen_w, con_w, seq, interval_ms, averaged
        FROM read_parquet(${list(files)}, union_by_name = true)
        WHERE meter_id = ${sqlString(meterId)} AND epoch_ms(measured_at) >= ${Math.floor(lowMs)} AND epoch_ms(measured_at) < ${Math.ceil(highMs)}
        QUALIFY row_number() OVER (PARTITION BY at_ms ORDER BY seq DESC) = 1
      )
      SELECT * FROM (SELECT * FROM r WHERE at_ms < ${window.fromMs} ORDER BY at_ms DESC LIMIT ${window.before})
      UNION ALL SELECT * FROM r WHERE at_ms >= ${window.fromMs} AND at_ms < ${window.toMs}
      UNION ALL SELECT * FROM (SELECT * FROM r WHERE at_ms >= ${window.toMs} ORDER BY at_ms LIMIT ${window.after})
      ORDER BY at_ms`);
    return { readings: rows.map(ruleReading), newestMs };
  }

  async has(communityId: string, meterId: string): Promise<boolean> {
    const files = (await this.days(communityId)).flatMap((day) => day.files);
    if (!files.length) return false;
    return (await this.rows(`SELECT 1 FROM read_parquet(${list(files)}) WHERE meter_id = ${sqlString(meterId)} LIMIT 1`)).length > 0;
  }

  close(): void {
    this.instance.closeSync();
  }
}

const list = (files: readonly string[]): string => `[${files.map(sqlString).join(", ")}]`;

/** A row of `around`'s query (at_ms, gen_w, con_w, seq, interval_ms, averaged) as the integrator takes it. */
function ruleReading([at, genW, conW, seq, intervalMs, averaged]: unknown[]): RuleReading {
  return {
    genW: Number(genW),
    conW: Number(conW),
    measuredAtMs: Number(at),
    seq: Number(seq),
    ...(intervalMs !== null && { intervalMs: Number(intervalMs) }),
    ...(averaged === true && { averaged: true }),
  };
}

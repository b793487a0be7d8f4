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

/** A segment and the data time of its readings, [minMs, maxMs]. */
interface SegmentSpan {
  readonly path: string;
  readonly minMs: number;
  readonly maxMs: number;
}

/**
 * How far on each side of a span its readings are looked for, step by step: a side with too few
 * readings within one is looked at again within the next, and last as far as asked (`reachMs`).
 * 10 min holds the 6 readings before of a meter reporting every minute or faster, 2 h those of a
 * 15-minute gateway: most queries open only the segments of their own span and a little more.
 */
const REACH_STEPS_MS = [10 * 60_000, 2 * 3_600_000];

export class ArchiveMeterReadings {
  /**
   * Per day folder, the data time of each of its segments, as last listed. A segment never changes
   * once renamed into place: its span is read once, and a query opens only the segments it needs
   * (an archiver flushing every 10 s writes 8,640 a day per community).
   */
  private readonly spans = new Map<string, ReadonlyMap<string, SegmentSpan>>();

  private constructor(
    /** The archive's directory. */
    readonly location: string,
    private readonly instance: DuckDBInstance,
  ) {}

  static async open(dir: string): Promise<ArchiveMeterReadings> {
    return new ArchiveMeterReadings(dir, await DuckDBInstance.create(":memory:"));
  }

  /** The community's days (YYYY-MM-DD) with a folder, oldest first. */
  private async dates(communityId: string): Promise<string[]> {
    return (await entries(join(this.location, communityFolder(communityId)))).filter((name) => name.startsWith("date=")).map((name) => name.slice("date=".length)).sort();
  }

  /** The segments of the community's days, with their data time: listed now, spans read for the new ones only. */
  private async segments(communityId: string, dates: readonly string[]): Promise<SegmentSpan[]> {
    const listed = await Promise.all(
      dates.map(async (date) => {
        const folder = join(this.location, dayFolder(communityId, date));
        return { folder, files: (await entries(folder)).filter(isSegment).map((name) => join(folder, name)) };
      }),
    );
    const unknown = listed.flatMap(({ folder, files }) => files.filter((file) => !this.spans.get(folder)?.has(file)));
    const read = new Map<string, SegmentSpan>();
    if (unknown.length) {
      const rows = await this.rows(`SELECT filename, min(epoch_ms(measured_at)), max(epoch_ms(measured_at)) FROM read_parquet(${list(unknown)}, filename = true) GROUP BY filename`);
      for (const [path, minMs, maxMs] of rows) read.set(String(path), { path: String(path), minMs: Number(minMs), maxMs: Number(maxMs) });
    }
    return listed.flatMap(({ folder, files }) => {
      // The folder's spans as listed now: a segment removed since (compaction) is forgotten.
      const known = this.spans.get(folder);
      const spans = new Map(files.flatMap((file) => {
        const span = known?.get(file) ?? read.get(file);
        return span ? [[file, span] as const] : [];
      }));
      this.spans.set(folder, spans);
      return [...spans.values()];
    });
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

  /** The meter's readings in [lowMs, highMs), from the community's segments that hold data time there, each instant once, in `order`. */
  private async readingsIn(communityId: string, meterId: string, dates: readonly string[], lowMs: number, highMs: number, order: string): Promise<RuleReading[]> {
    const [first, last] = [utcDate(lowMs), utcDate(highMs)];
    const files = (await this.segments(communityId, dates.filter((date) => date >= first && date <= last))).filter((span) => span.maxMs >= lowMs && span.minMs < highMs).map((span) => span.path);
    if (!files.length) return [];
    const rows = await this.rows(`
      SELECT epoch_ms(measured_at) AS at_ms, gen_w, con_w, seq, interval_ms, averaged
      FROM read_parquet(${list(files)}, union_by_name = true)
      WHERE meter_id = ${sqlString(meterId)} AND epoch_ms(measured_at) >= ${Math.floor(lowMs)} AND epoch_ms(measured_at) < ${Math.ceil(highMs)}
      QUALIFY row_number() OVER (PARTITION BY at_ms ORDER BY seq DESC) = 1
      ${order}`);
    return rows.map(ruleReading);
  }

  /** The `count` readings nearest to the span on one side, looked for near it first, then further out (REACH_STEPS_MS). */
  private async nearest(communityId: string, meterId: string, dates: readonly string[], window: ReadingsWindow, side: "before" | "after"): Promise<RuleReading[]> {
    const count = window[side];
    const reaches = [...REACH_STEPS_MS.filter((ms) => ms < window.reachMs), window.reachMs];
    let found: RuleReading[] = [];
    for (const reachMs of reaches) {
      found =
        side === "before"
          ? (await this.readingsIn(communityId, meterId, dates, window.fromMs - reachMs, window.fromMs, `ORDER BY at_ms DESC LIMIT ${count}`)).reverse()
          : await this.readingsIn(communityId, meterId, dates, window.toMs, window.toMs + reachMs, `ORDER BY at_ms LIMIT ${count}`);
      if (found.length >= count) break;
    }
    return found;
  }

  async around(communityId: string, meterId: string, window: ReadingsWindow): Promise<ArchivedReadings | undefined> {
    if (!(await isFolder(this.location))) return undefined;
    const dates = await this.dates(communityId);
    // The community's newest reading: in its newest day folder that holds a segment.
    let newestMs = Number.NEGATIVE_INFINITY;
    for (let i = dates.length - 1; i >= 0 && newestMs === Number.NEGATIVE_INFINITY; i -= 1) {
      for (const span of await this.segments(communityId, [dates[i]!])) newestMs = Math.max(newestMs, span.maxMs);
    }
    if (newestMs === Number.NEGATIVE_INFINITY) return { readings: [], newestMs };
    const [before, within, after] = await Promise.all([
      window.before > 0 ? this.nearest(communityId, meterId, dates, window, "before") : [],
      this.readingsIn(communityId, meterId, dates, window.fromMs, window.toMs, "ORDER BY at_ms"),
      // Nothing comes after the community's newest reading.
      window.after > 0 && window.toMs <= newestMs ? this.nearest(communityId, meterId, dates, window, "after") : [],
    ]);
    return { readings: [...before, ...within, ...after], newestMs };
  }

  async has(communityId: string, meterId: string): Promise<boolean> {
    const files = (await this.segments(communityId, await this.dates(communityId))).map((span) => span.path);
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

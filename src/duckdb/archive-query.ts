import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance, StatementType, type DuckDBConnection, type DuckDBPreparedStatement } from "@duckdb/node-api";
import { UsageError } from "../errors.js";
import { type ArchiveDay, nextDate, precomputedDays } from "../wire/archive-layout.js";
import { type Precomputed, archiveViews, readingsSource } from "./energy-views.js";
import { archiveDays } from "./parquet-days.js";
import { sqlString } from "./parquet-segments.js";

/**
 * Read-only SQL over the archive (issue 22): an in-memory DuckDB with the documented views over
 * the Parquet segments, which the archivers write beside it (a reader sees complete files only:
 * they appear by rename). Only one SELECT is run; anything else is refused before it runs.
 */

/** The archive's tables and views, each with its one-line explanation (`query --schema`, docs/archive.md). */
export const ARCHIVE_SCHEMA = [
  {
    name: "readings",
    explanation: "every valid reading once: community_id, meter_id, measured_at TIMESTAMPTZ, gen_w, con_w (W), seq, interval_ms, averaged (null when the reading did not say)",
  },
  {
    name: "meter_energy_15m",
    explanation: "each meter's energy per UTC quarter hour, by the aggregator's rule of validity: community_id, meter_id, bucket_start TIMESTAMPTZ, gen_wh, con_wh, import_wh, export_wh (Wh)",
  },
  {
    name: "community_energy_15m",
    explanation: "each community's energy per UTC quarter hour, the sums of meter_energy_15m: community_id, bucket_start, gen_wh, con_wh, import_wh, export_wh, shared_wh = min(import, export) (Wh)",
  },
] as const;

const EMPTY_SEGMENTS =
  "SELECT NULL::VARCHAR AS community_id, NULL::VARCHAR AS meter_id, NULL::TIMESTAMPTZ AS measured_at, NULL::INTEGER AS gen_w, NULL::INTEGER AS con_w, NULL::BIGINT AS seq, NULL::INTEGER AS interval_ms, NULL::BOOLEAN AS averaged, NULL::BIGINT AS stream_seq, NULL::DATE AS date WHERE false";

/**
 * The days whose quarter hours compaction computed, as the archive holds them when the views are
 * made (each `ecwatch query` makes them anew): a day that gets a late segment afterwards is read
 * from its energy file until the views are made again.
 */
function precomputedIn(dir: string, days: readonly ArchiveDay[]): Precomputed {
  const valid = precomputedDays(days);
  const precomputed = new Set(valid.map(({ communityId, date }) => `${communityId}/${date}`));
  const held = new Set(days.map(({ communityId, date }) => `${communityId}/${date}`));
  const doneOrEmpty = (key: string): boolean => precomputed.has(key) || !held.has(key);
  return {
    files: valid.map(({ path }) => join(dir, path)),
    days: valid.flatMap(({ communityId, dates }) => dates.map((date) => `${communityId}/${date}`)),
    unneeded: valid.flatMap(({ communityId, date }) => ([-1, 1].every((offset) => doneOrEmpty(`${communityId}/${nextDate(date, offset)}`)) ? [`${communityId}/${date}`] : [])),
  };
}

/** A statement refused or failed: one sentence for the user, exit code 2. */
export class QueryRefused extends UsageError {}

export interface QueryResult {
  readonly columns: readonly string[];
  /** Values as JSON: numbers, strings (timestamps ISO-8601, big integers as text), booleans, null. */
  readonly rows: ReadonlyArray<Readonly<Record<string, unknown>>>;
}

const hasSegments = (dir: string): boolean => existsSync(dir) && readdirSync(dir, { recursive: true }).some((entry) => String(entry).endsWith(".parquet"));

/** The first line of DuckDB's message, without its error-class prefix. */
const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split("\n")[0]!.replace(/^[A-Za-z ]+ Error: /, "");

export class ArchiveQuery {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(dir: string): Promise<ArchiveQuery> {
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    // The glob is expanded at each query: a segment renamed into place since is read too.
    const segments = hasSegments(dir);
    const source = segments ? readingsSource(sqlString(join(dir, "*", "*", "*.parquet"))) : EMPTY_SEGMENTS;
    const precomputed = segments ? precomputedIn(dir, await archiveDays(dir)) : undefined;
    for (const view of archiveViews(source, precomputed)) await connection.run(view);
    return new ArchiveQuery(instance, connection);
  }

  /** Runs one SELECT; throws QueryRefused for anything else, or a query DuckDB cannot run. */
  async run(sql: string): Promise<QueryResult> {
    return this.refusingAllButSelect(sql, async (prepared) => {
      const reader = await prepared.runAndReadAll();
      return { columns: reader.columnNames(), rows: reader.getRowObjectsJson() };
    });
  }

  /**
   * Runs one SELECT and writes its rows as CSV (RFC 4180, a header line) to the file `target`,
   * by DuckDB itself: a settlement's hundred thousand rows never become JavaScript values, which
   * costs several times the query (bench/README.md, row 26). Refuses as `run` does.
   */
  async copyCsv(sql: string, target: string): Promise<void> {
    await this.refusingAllButSelect(sql, async () => {
      // Own lines: a trailing line comment cannot swallow the closing parenthesis.
      await this.connection.run(`COPY (\n${sql.trim().replace(/;+$/, "")}\n) TO ${sqlString(target)} (FORMAT csv, HEADER true)`);
    });
  }

  /** Runs `then` with the one SELECT that `sql` must be; throws QueryRefused for anything else, or a query DuckDB cannot run. */
  private async refusingAllButSelect<T>(sql: string, then: (prepared: DuckDBPreparedStatement) => Promise<T>): Promise<T> {
    try {
      const statements = await this.connection.extractStatements(sql);
      if (statements.count !== 1) throw new QueryRefused(`Give one SQL statement, not ${statements.count}.`);
      const prepared = await statements.prepare(0);
      if (prepared.statementType !== StatementType.SELECT) throw new QueryRefused(`The archive is read-only: only a SELECT runs, not a ${StatementType[prepared.statementType]} statement.`);
      return await then(prepared);
    } catch (err) {
      if (err instanceof QueryRefused) throw err;
      throw new QueryRefused(`The query failed: ${firstLine(err)}.`.replace(/\.\.$/, "."));
    }
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

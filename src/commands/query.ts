import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { ExitCode, UsageError } from "../errors.js";
import { ARCHIVE_SCHEMA, type ArchiveQuery } from "../duckdb/archive-query.js";
import { openArchiveQuery } from "../app/archive.js";
import { resolveArchiveDir } from "../config/archive-dir.js";

export interface QueryFlags {
  /** Default: the running `up`'s archive, else `.ecwatch/archive` (resolveArchiveDir). */
  readonly dir?: string;
  readonly json?: boolean;
  readonly csv?: boolean;
  readonly schema?: boolean;
}

/** A value as a cell of the table. */
const cell = (value: unknown): string => (value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value));

/** Columns padded to their widest cell; numbers right-aligned. */
function table(columns: readonly string[], rows: ReadonlyArray<Readonly<Record<string, unknown>>>): string {
  const cells = rows.map((row) => columns.map((column) => cell(row[column])));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((line) => line[i]!.length)));
  const right = columns.map((column) => rows.length > 0 && rows.every((row) => typeof row[column] === "number" || row[column] === null));
  const line = (values: readonly string[]): string => values.map((value, i) => (right[i] ? value.padStart(widths[i]!) : value.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(columns), line(widths.map((width) => "─".repeat(width))), ...cells.map(line), `(${rows.length} row${rows.length === 1 ? "" : "s"})`].join("\n");
}

/** CSV written by DuckDB into a temporary file, then copied to stdout (a pipe or a file, whichever it is). */
async function printCsv(query: ArchiveQuery, sql: string): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), "ecwatch-query-"));
  try {
    const file = join(folder, "rows.csv");
    await query.copyCsv(sql, file);
    await pipeline(createReadStream(file), process.stdout, { end: false });
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

export async function runQuery(sql: string | undefined, flags: QueryFlags): Promise<ExitCode> {
  if (flags.schema) {
    for (const { name, explanation } of ARCHIVE_SCHEMA) process.stdout.write(`${name}  ${explanation}\n`);
    return ExitCode.Ok;
  }
  if (!sql?.trim()) throw new UsageError("Give the SQL to run, e.g. ecwatch query \"SELECT count(*) FROM readings\".", "Run `ecwatch query --schema` for the tables and views.");
  const query = await openArchiveQuery(resolveArchiveDir(flags.dir));
  try {
    if (flags.csv) await printCsv(query, sql);
    else {
      const { columns, rows } = await query.run(sql);
      process.stdout.write(flags.json ? `${JSON.stringify(rows)}\n` : `${table(columns, rows)}\n`);
    }
  } finally {
    query.close();
  }
  return ExitCode.Ok;
}

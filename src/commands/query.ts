import { ExitCode, UsageError } from "../errors.js";
import { ARCHIVE_SCHEMA } from "../duckdb/archive-query.js";
import { openArchiveQuery } from "../app/archive.js";
import { resolveArchiveDir } from "../config/archive-dir.js";

export interface QueryFlags {
  /** Default: the running `up`'s archive, else `.ecwatch/archive` (resolveArchiveDir). */
  readonly dir?: string;
  readonly json?: boolean;
  readonly csv?: boolean;
  readonly schema?: boolean;
}

/** A value as a cell of the table or the CSV. */
const cell = (value: unknown): string => (value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value));

/** RFC 4180: quoted when it holds a comma, a quote or a line break. */
const csvCell = (value: unknown): string => {
  const text = cell(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/** Columns padded to their widest cell; numbers right-aligned. */
function table(columns: readonly string[], rows: ReadonlyArray<Readonly<Record<string, unknown>>>): string {
  const cells = rows.map((row) => columns.map((column) => cell(row[column])));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((line) => line[i]!.length)));
  const right = columns.map((column) => rows.length > 0 && rows.every((row) => typeof row[column] === "number" || row[column] === null));
  const line = (values: readonly string[]): string => values.map((value, i) => (right[i] ? value.padStart(widths[i]!) : value.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(columns), line(widths.map((width) => "─".repeat(width))), ...cells.map(line), `(${rows.length} row${rows.length === 1 ? "" : "s"})`].join("\n");
}

export async function runQuery(sql: string | undefined, flags: QueryFlags): Promise<ExitCode> {
  if (flags.schema) {
    for (const { name, explanation } of ARCHIVE_SCHEMA) process.stdout.write(`${name}  ${explanation}\n`);
    return ExitCode.Ok;
  }
  if (!sql?.trim()) throw new UsageError("Give the SQL to run, e.g. ecwatch query \"SELECT count(*) FROM readings\".", "Run `ecwatch query --schema` for the tables and views.");
  const query = await openArchiveQuery(resolveArchiveDir(flags.dir));
  try {
    const { columns, rows } = await query.run(sql);
    if (flags.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
    else if (flags.csv) process.stdout.write(`${[columns.map(csvCell).join(","), ...rows.map((row) => columns.map((column) => csvCell(row[column])).join(","))].join("\n")}\n`);
    else process.stdout.write(`${table(columns, rows)}\n`);
  } finally {
    query.close();
  }
  return ExitCode.Ok;
}

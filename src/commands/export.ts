import { LiveBlock } from "../cli/output.js";
import { untilSignal } from "../cli/signals.js";
import { ExitCode, UsageError } from "../errors.js";
import { parseArchiveTime } from "../archive/export-plan.js";
import type { ExportSummary } from "../archive/exporter.js";
import { exportArchiveTo } from "../app/archive.js";
import { resolveArchiveDir } from "../config/archive-dir.js";

export interface ExportFlags {
  /** Default: the running `up`'s archive, else `.ecwatch/archive` (resolveArchiveDir). */
  readonly dir?: string;
  /** Required: checked by the command's table (a parser's value, resolved here). */
  readonly from?: string;
  /** Default `now`. */
  readonly to: string;
  readonly community?: string[];
  /** Required: a new or empty folder. */
  readonly out?: string;
  readonly json?: boolean;
}

const describe = (summary: ExportSummary): string =>
  `${summary.files} files (${summary.copied} copied whole, ${summary.filtered} filtered), ${summary.rows} rows, ${summary.bytes} bytes`;

export async function runExport(flags: ExportFlags): Promise<ExitCode> {
  if (flags.from === undefined) throw new UsageError("Give --from, the start of the range, e.g. --from -24h or --from 2026-06-21.");
  if (flags.out === undefined) throw new UsageError("Give --out, a new or empty folder to write the export to.");
  // One "now" for both ends: -24h … now spans 24 h exactly.
  const nowMs = Date.now();
  const fromMs = parseArchiveTime(flags.from, nowMs)!;
  const toMs = parseArchiveTime(flags.to, nowMs)!;
  if (toMs <= fromMs) throw new UsageError(`--to (${new Date(toMs).toISOString()}) must be later than --from (${new Date(fromMs).toISOString()}): the range is [from, to).`);
  const abort = new AbortController();
  void untilSignal().then(() => abort.abort());
  const progress = new LiveBlock(process.stderr, 2_000);
  const summary = await exportArchiveTo(
    resolveArchiveDir(flags.dir),
    flags.out,
    { range: { fromMs, toMs }, communities: flags.community },
    { signal: abort.signal, onProgress: (sofar, done) => progress.render([`exporting: ${done}/${sofar.planned} files of the plan · ${describe(sofar)}`]) },
  );
  const range = `[${new Date(fromMs).toISOString()}, ${new Date(toMs).toISOString()})`;
  if (summary.interrupted) {
    process.stderr.write(`ecwatch: export interrupted: ${describe(summary)} written to ${flags.out}, each whole; the export of ${range} is incomplete.\n`);
    return ExitCode.Failure;
  }
  process.stderr.write(`exported ${describe(summary)} of ${range} to ${flags.out}\n`);
  if (flags.json) {
    const { files, rows, bytes, copied, filtered } = summary;
    process.stdout.write(`${JSON.stringify({ files, rows, bytes, copied, filtered })}\n`);
  }
  return ExitCode.Ok;
}

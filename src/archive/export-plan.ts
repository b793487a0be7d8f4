import { parseTime } from "../energy/history-query.js";
import { type ArchiveFile, SEGMENT_SUFFIX, dayFolder, parseSegmentName } from "../wire/archive-layout.js";

/**
 * What `ecwatch export` writes (issue 22), pure: which of the archive's files lie in the range
 * [from, to) of measured_at, which of them are copied whole (their UTC day lies inside the
 * range) and which are filtered (the first and last day, cut by the range).
 */

const DAY_MS = 86_400_000;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** The half-open range [fromMs, toMs) of measured_at. */
export interface ExportRange {
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * A time of --from / --to: `now`, relative to now (`-24h`, `-7d`), ISO-8601 with a zone, or a
 * date alone (`2026-06-21`), which means 00:00 UTC — the archive's days are UTC days. A time
 * without a zone is refused (undefined), as everywhere in ecwatch: it would depend on the machine.
 */
export function parseArchiveTime(text: string, nowMs: number): number | undefined {
  const value = text.trim();
  return parseTime(DATE_ONLY.test(value) ? `${value}T00:00:00Z` : value, nowMs);
}

/** One file of the export: `source` relative to the archive, `target` relative to --out. */
export interface ExportStep {
  readonly kind: "copy" | "filter";
  readonly source: string;
  readonly target: string;
}

/**
 * An exported file's name: a segment's becomes `<name>.export.parquet`, which is no segment name.
 * A filtered file no longer holds the stream sequences its segment's name promises, and an
 * archiver pointed at the export by mistake must not take its files for its own; any other name
 * (an export's, a compacted day's) is kept. The stem keeps the files of a day apart.
 */
export function exportName(name: string): string {
  return parseSegmentName(name) ? `${name.slice(0, -SEGMENT_SUFFIX.length)}.export${SEGMENT_SUFFIX}` : name;
}

/** The steps of an export of `files` over `range`, of `communities` only when given, in path order. */
export function planExport(files: readonly ArchiveFile[], range: ExportRange, communities?: readonly string[]): ExportStep[] {
  const steps: ExportStep[] = [];
  for (const { communityId, date, name } of files) {
    if (communities?.length && !communities.includes(communityId)) continue;
    const dayStart = Date.parse(`${date}T00:00:00Z`);
    const dayEnd = dayStart + DAY_MS;
    if (dayEnd <= range.fromMs || dayStart >= range.toMs) continue;
    const folder = dayFolder(communityId, date);
    const whole = range.fromMs <= dayStart && dayEnd <= range.toMs;
    steps.push({ kind: whole ? "copy" : "filter", source: `${folder}/${name}`, target: `${folder}/${exportName(name)}` });
  }
  return steps.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
}

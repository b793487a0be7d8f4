import { UsageError } from "../errors.js";
import { type ExportRange, planExport } from "./export-plan.js";
import type { ExportFiles } from "./ports.js";

/**
 * `ecwatch export` (issue 22): the archive's files over a range of measured_at, in the same Hive
 * layout. Whole days are copied as they are; the first and last day are filtered. Files are
 * copied as the archive holds them: a reading published twice and stored twice (see the
 * `readings` view) is exported twice too.
 */

export interface ExportRequest {
  readonly range: ExportRange;
  /** Only these communities (default: all). */
  readonly communities?: readonly string[];
}

export interface ExportSummary {
  /** Files written. */
  readonly files: number;
  readonly rows: number;
  readonly bytes: number;
  /** Files copied whole, files filtered (a filtered file with no row in the range writes nothing). */
  readonly copied: number;
  readonly filtered: number;
  /** Files in the plan: copied, filtered, and filtered to nothing. */
  readonly planned: number;
  /** Stopped by the signal: the files written are whole, the export is incomplete. */
  readonly interrupted: boolean;
}

export interface ExportOptions {
  /** Stops the export before the next file (and interrupts a filter under way). */
  readonly signal?: AbortSignal;
  /** After each file of the plan. */
  readonly onProgress?: (summary: ExportSummary, done: number) => void;
}

export async function exportArchive(files: ExportFiles, request: ExportRequest, options: ExportOptions = {}): Promise<ExportSummary> {
  const { communities, files: archived } = await files.list();
  const unknown = request.communities?.find((id) => !communities.includes(id));
  if (unknown !== undefined) {
    const held = communities.length ? `it holds ${communities.slice(0, 10).join(", ")}${communities.length > 10 ? ", …" : ""}` : "it holds none yet";
    throw new UsageError(`--community ${unknown}: the archive holds no such community (${held}).`);
  }
  const plan = planExport(archived, request.range, request.communities);
  let summary: ExportSummary = { files: 0, rows: 0, bytes: 0, copied: 0, filtered: 0, planned: plan.length, interrupted: false };
  let done = 0;
  for (const step of plan) {
    if (options.signal?.aborted) return { ...summary, interrupted: true };
    try {
      const written = step.kind === "copy" ? await files.copy(step.source, step.target) : await files.filter(step.source, step.target, request.range, options.signal);
      if (written) {
        summary = {
          ...summary,
          files: summary.files + 1,
          rows: summary.rows + written.rows,
          bytes: summary.bytes + written.bytes,
          copied: summary.copied + (step.kind === "copy" ? 1 : 0),
          filtered: summary.filtered + (step.kind === "filter" ? 1 : 0),
        };
      }
    } catch (err) {
      // An interrupted filter leaves no file; what was written before it stays, whole.
      if (options.signal?.aborted) return { ...summary, interrupted: true };
      throw err;
    }
    done += 1;
    options.onProgress?.(summary, done);
  }
  return summary;
}

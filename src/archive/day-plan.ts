import { partitionOf } from "../wire/names.js";
import { type ArchiveDay, dayEndMs, dayFolder, parseSegmentName, segmentFileName } from "../wire/archive-layout.js";

/**
 * What to do with the archive's finished days (issue 22), decided without I/O: merge a day's
 * segments into one file once the day is over, and remove whole days once they are older than
 * the retention age. Only the days of the partitions an archiver archives are its to touch.
 */

export interface DayPlanOptions {
  /** Wall-clock now. */
  readonly nowMs: number;
  /** The partitions whose communities' days this archiver looks after. */
  readonly partitions: ReadonlySet<number>;
  /** A day is compacted once it ended this long ago. */
  readonly compactAfterMs: number;
  /** A day is removed once it ended more than this long ago; undefined: kept forever. */
  readonly retentionMs: number | undefined;
  /** Names a compacted file apart from every file before it (its inputs included). */
  readonly tag: string;
}

/** A day's segments merged into one file, `p<partition>-<first>-<last>-<tag>.parquet` over the span of all of them. */
export interface Compaction {
  readonly communityId: string;
  readonly date: string;
  /** The day's folder, relative to the archive's directory. */
  readonly folder: string;
  /** The segments merged (paths), all of the community's partition. */
  readonly inputs: readonly string[];
  /** The compacted file (path). */
  readonly output: string;
}

export interface DayPlan {
  readonly expire: ReadonlyArray<Pick<ArchiveDay, "communityId" | "date">>;
  readonly compact: readonly Compaction[];
}

export function planDays(days: readonly ArchiveDay[], options: DayPlanOptions): DayPlan {
  const expire: Array<Pick<ArchiveDay, "communityId" | "date">> = [];
  const compact: Compaction[] = [];
  for (const { communityId, date, files } of days) {
    const partition = partitionOf(communityId);
    if (!options.partitions.has(partition)) continue;
    const endMs = dayEndMs(date);
    if (options.retentionMs !== undefined && options.nowMs - endMs > options.retentionMs) {
      expire.push({ communityId, date });
      continue;
    }
    if (options.nowMs - endMs < options.compactAfterMs) continue;
    const segments = files.flatMap((file) => {
      const name = parseSegmentName(file);
      return name?.partition === partition ? [{ file, ...name }] : [];
    });
    // One file is a day already compacted (or one that never had more): nothing to merge.
    if (segments.length < 2) continue;
    const folder = dayFolder(communityId, date);
    const first = Math.min(...segments.map((segment) => segment.firstSeq));
    const last = Math.max(...segments.map((segment) => segment.lastSeq));
    compact.push({
      communityId,
      date,
      folder,
      inputs: segments.map((segment) => `${folder}/${segment.file}`),
      output: `${folder}/${segmentFileName(partition, first, last, options.tag)}`,
    });
  }
  return { expire, compact };
}

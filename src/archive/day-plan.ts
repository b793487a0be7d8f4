import { partitionOf } from "../wire/names.js";
import { type ArchiveDay, SEGMENT_SUFFIX, dayEndMs, dayFolder, dayEnergy, energyFolder, filesByDay, nextDate, parseSegmentName, segmentFileName } from "../wire/archive-layout.js";

/**
 * What to do with the archive's finished days (issue 22), decided without I/O: merge a day's
 * segments into one file once the day is over, and remove whole days once they are older than
 * the retention age, and compute a finished day's quarter hours once it and its neighbours are
 * one file each. Only the days of the partitions an archiver archives are its to touch.
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

/** A finished day's quarter hours, computed over its readings file and its neighbours' into the energy file named for them (dayEnergy). */
export interface EnergyWrite {
  readonly communityId: string;
  readonly date: string;
  /** The UTC days whose quarter hours the file holds (DayEnergy.dates). */
  readonly dates: readonly string[];
  /** The readings files (paths) of the day before, the day and the day after, as the plan's compactions leave them. */
  readonly readings: readonly string[];
  /** The day's energy folder. */
  readonly folder: string;
  /** The energy file (path). */
  readonly output: string;
  /** The day's other energy files (paths), computed from readings files no longer there: removed once the output is in place. */
  readonly stale: readonly string[];
}

export interface DayPlan {
  readonly expire: ReadonlyArray<Pick<ArchiveDay, "communityId" | "date">>;
  readonly compact: readonly Compaction[];
  /** After the compactions: the finished days whose energy file is missing or no longer matches their readings. */
  readonly energy: readonly EnergyWrite[];
}

export function planDays(days: readonly ArchiveDay[], options: DayPlanOptions): DayPlan {
  const expire: Array<Pick<ArchiveDay, "communityId" | "date">> = [];
  const compact: Compaction[] = [];
  const finished: ArchiveDay[] = [];
  for (const day of days) {
    const { communityId, date, files } = day;
    const partition = partitionOf(communityId);
    if (!options.partitions.has(partition)) continue;
    const endMs = dayEndMs(date);
    if (options.retentionMs !== undefined && options.nowMs - endMs > options.retentionMs) {
      expire.push({ communityId, date });
      continue;
    }
    if (options.nowMs - endMs < options.compactAfterMs) continue;
    finished.push(day);
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
  return { expire, compact, energy: energyWrites(days, finished, expire, compact) };
}

/** The energy files to write once the compactions are done: what each finished day's should be named then, where it is not. */
function energyWrites(days: readonly ArchiveDay[], finished: readonly ArchiveDay[], expire: DayPlan["expire"], compact: readonly Compaction[]): EnergyWrite[] {
  const after = filesByDay(days);
  for (const { communityId, date } of expire) after.delete(`${communityId}/${date}`);
  for (const { communityId, date, inputs, output } of compact) {
    const key = `${communityId}/${date}`;
    const merged = new Set(inputs.map(nameOf));
    after.set(key, [...after.get(key)!.filter((name) => !merged.has(name)), nameOf(output)]);
  }
  return finished.flatMap(({ communityId, date, energy = [] }) => {
    const valid = dayEnergy(after, communityId, date);
    if (valid === undefined || energy.includes(valid.name)) return [];
    const folder = energyFolder(communityId, date);
    const readings = [-1, 0, 1].flatMap((offset) => {
      const day = nextDate(date, offset);
      return (after.get(`${communityId}/${day}`) ?? []).filter((file) => file.endsWith(SEGMENT_SUFFIX)).map((file) => `${dayFolder(communityId, day)}/${file}`);
    });
    return [{ communityId, date, dates: valid.dates, readings, folder, output: `${folder}/${valid.name}`, stale: energy.map((file) => `${folder}/${file}`) }];
  });
}

const nameOf = (path: string): string => path.slice(path.lastIndexOf("/") + 1);

import type { MeterState } from "../domain/totals.js";

/**
 * The archive's layout (issue 22): immutable Parquet segments under
 * `community_id=<id>/date=<YYYY-MM-DD>/` (Hive partitioning, UTC days), each named for the
 * partition stream and the stream sequences of the flush that wrote it, so that a restarted
 * archiver finds what it already wrote without a database of its own.
 */

/** A valid reading as the archive keeps it, with where it sits in its partition's stream. */
export interface ArchivedReading {
  readonly communityId: string;
  readonly meterId: string;
  readonly state: MeterState;
  /** Its sequence in its partition's stream: what makes a delivered-again reading recognisable. */
  readonly streamSeq: number;
}

/** The readings of one community and UTC day from one flush of one partition: one Parquet file. */
export interface Segment {
  readonly communityId: string;
  /** YYYY-MM-DD (UTC). */
  readonly date: string;
  /** `community_id=<id>/date=<date>/<name>` under the archive's directory. */
  readonly path: string;
  readonly readings: readonly ArchivedReading[];
}

/** A community's UTC day in the archive: its folder `community_id=<id>/date=<date>/` and the names of the files in it. */
export interface ArchiveDay {
  readonly communityId: string;
  /** YYYY-MM-DD (UTC). */
  readonly date: string;
  readonly files: readonly string[];
  /** The names of the files in its energy folder (`energyFolder`); default none. */
  readonly energy?: readonly string[];
}

/** Where `ecwatch archive` writes and `ecwatch query` reads when not told otherwise. */
export const DEFAULT_ARCHIVE_DIR = ".ecwatch/archive";

export const SEGMENT_SUFFIX = ".parquet";
/** A file being written: outside the `*.parquet` glob that readers use, renamed when complete. */
export const TEMPORARY_SUFFIX = ".parquet.tmp";

/** The temporary name a file at `path` (ending in `.parquet`) is written under before its rename. */
export const temporaryPath = (path: string): string => `${path.slice(0, -SEGMENT_SUFFIX.length)}${TEMPORARY_SUFFIX}`;

/** The UTC day of a data time, as YYYY-MM-DD. */
export const utcDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export const COMMUNITY_FOLDER_PREFIX = "community_id=";
export const DATE_FOLDER_PREFIX = "date=";

/** The folder of a community, relative to the archive's directory. */
export const communityFolder = (communityId: string): string => `${COMMUNITY_FOLDER_PREFIX}${communityId}`;

/** The folder of a community's day, relative to the archive's directory. */
export const dayFolder = (communityId: string, date: string): string => `${communityFolder(communityId)}/${DATE_FOLDER_PREFIX}${date}`;

const DAY_MS = 86_400_000;

/** The instant a UTC day (YYYY-MM-DD) ends: the next day's midnight. */
export const dayEndMs = (date: string): number => Date.parse(`${date}T00:00:00Z`) + DAY_MS;

const pad = (seq: number): string => String(seq).padStart(12, "0");

/**
 * `p<partition>-<first>-<last>-<tag>.parquet`: first and last are the lowest and highest stream
 * sequences of the readings in the file (so a restart reads only the files that can hold
 * sequences it may be delivered again); the tag (`<archiver>-<flush>`, lower-case letters and
 * digits) keeps two flushes over the same span apart, also two archivers' flushes.
 */
export function segmentName(partition: number, readings: readonly ArchivedReading[], tag: string): string {
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const { streamSeq } of readings) {
    first = Math.min(first, streamSeq);
    last = Math.max(last, streamSeq);
  }
  return segmentFileName(partition, first, last, tag);
}

/** `p<partition>-<first>-<last>-<tag>.parquet`, from the span of stream sequences a file holds. */
export const segmentFileName = (partition: number, firstSeq: number, lastSeq: number, tag: string): string => `p${partition}-${pad(firstSeq)}-${pad(lastSeq)}-${tag}${SEGMENT_SUFFIX}`;

/** What a segment's file name says, or undefined for a file that is not a segment (e.g. one written by an export, or a temporary one). */
export function parseSegmentName(name: string): { readonly partition: number; readonly firstSeq: number; readonly lastSeq: number } | undefined {
  const match = /^p(\d{1,4})-(\d{12})-(\d{12})-[0-9a-z]+(?:-[0-9a-z]+)?\.parquet$/.exec(name);
  if (!match) return undefined;
  return { partition: Number(match[1]), firstSeq: Number(match[2]), lastSeq: Number(match[3]) };
}

/**
 * The readings of one flush of `partition`, one segment per community and UTC day. Grouped by
 * community, then by the number of the UTC day: a date string per segment, not per reading.
 */
export function segmentsOf(partition: number, readings: readonly ArchivedReading[], tag: string): Segment[] {
  const groups = new Map<string, Map<number, ArchivedReading[]>>();
  for (const reading of readings) {
    let days = groups.get(reading.communityId);
    if (!days) groups.set(reading.communityId, (days = new Map()));
    const day = Math.floor(reading.state.measuredAtMs / DAY_MS);
    let group = days.get(day);
    if (!group) days.set(day, (group = []));
    group.push(reading);
  }
  const segments: Segment[] = [];
  for (const [communityId, days] of groups) {
    for (const group of days.values()) {
      const date = utcDate(group[0]!.state.measuredAtMs);
      segments.push({ communityId, date, path: `${dayFolder(communityId, date)}/${segmentName(partition, group, tag)}`, readings: group });
    }
  }
  return segments;
}

/** A data file of an archive (a segment, or any other `*.parquet` in a day's folder, e.g. an export's). */
export interface ArchiveFile {
  readonly communityId: string;
  /** YYYY-MM-DD (UTC). */
  readonly date: string;
  readonly name: string;
}

const ARCHIVE_PATH = /^community_id=([A-Za-z0-9_-]{1,64})\/date=(\d{4}-\d{2}-\d{2})\/([^/]+\.parquet)$/;

/** What a path relative to the archive's directory names, or undefined for anything that is not a data file in a day's folder. */
export function parseArchivePath(path: string): ArchiveFile | undefined {
  const match = ARCHIVE_PATH.exec(path);
  return match ? { communityId: match[1]!, date: match[2]!, name: match[3]! } : undefined;
}

/**
 * A finished day's quarter hours, computed once at compaction (`meter_energy_15m`'s rows whose
 * bucket lies in the day), live outside the glob readers read readings with (every `*.parquet` two folders down), in
 * `energy_15m/community_id=<id>/date=<date>/`.
 */
export const ENERGY_FOLDER = "energy_15m";

/** A day's energy folder, relative to the archive's directory. */
export const energyFolder = (communityId: string, date: string): string => `${ENERGY_FOLDER}/${dayFolder(communityId, date)}`;

/** The UTC day before or after `date` (YYYY-MM-DD). */
export const nextDate = (date: string, days: number): string => utcDate(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS);

const stem = (name: string | undefined): string => (name === undefined ? "none" : name.slice(0, -SEGMENT_SUFFIX.length));

/** Where a finished day's quarter hours are valid, and which they are. */
export interface DayEnergy {
  /** The energy file's name. */
  readonly name: string;
  /** The UTC days whose quarter hours it holds: the day, and the day after when that holds no readings (the day's last holds reach into it). */
  readonly dates: readonly string[];
}

/**
 * The energy file a day's quarter hours are valid in, or undefined when none can be: the day
 * holds exactly one readings file, and so do its neighbours (or they hold none). A day's quarter
 * hours depend on the readings of the day before (its last holds reach in, its last gaps teach
 * the cadence) and of the day after (an averaged reading early on it can cut the day's last hold),
 * so the name ties the file to all three readings files: `<before>~<day>~<after>.parquet` (their
 * stems, `none` for an empty neighbour). A late segment in any of the three changes what the day's
 * folder or a neighbour's holds, and the file no longer matches: the day is computed at query
 * time until the next compaction writes it again. The `~` keeps it from ever parsing as a segment.
 */
export function dayEnergy(days: ReadonlyMap<string, readonly string[]>, communityId: string, date: string): DayEnergy | undefined {
  const readingsOf = (day: string): readonly string[] => (days.get(`${communityId}/${day}`) ?? []).filter((name) => name.endsWith(SEGMENT_SUFFIX));
  const next = nextDate(date, 1);
  const [before, own, after] = [readingsOf(nextDate(date, -1)), readingsOf(date), readingsOf(next)];
  if (own.length !== 1 || before.length > 1 || after.length > 1) return undefined;
  return { name: `${stem(before[0])}~${stem(own[0])}~${stem(after[0])}${SEGMENT_SUFFIX}`, dates: after.length ? [date] : [date, next] };
}

/** The days' files by `community/date`, as `energyFileName` takes them. */
export const filesByDay = (days: readonly ArchiveDay[]): Map<string, readonly string[]> => new Map(days.map((day) => [`${day.communityId}/${day.date}`, day.files]));

/** The days whose energy file is there and valid (see dayEnergy), with its path relative to the archive's directory. */
export function precomputedDays(days: readonly ArchiveDay[]): Array<DayEnergy & Pick<ArchiveDay, "communityId" | "date"> & { readonly path: string }> {
  const files = filesByDay(days);
  return days.flatMap(({ communityId, date, energy }) => {
    const valid = dayEnergy(files, communityId, date);
    return valid !== undefined && energy?.includes(valid.name) ? [{ communityId, date, ...valid, path: `${energyFolder(communityId, date)}/${valid.name}` }] : [];
  });
}

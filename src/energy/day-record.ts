import { type Energy, MINUTE_MS } from "./meter-energy.js";

export const MINUTES_PER_DAY = 1_440;
const DAY_MS = MINUTES_PER_DAY * MINUTE_MS;

/**
 * A community's per-minute sums of one UTC day, as stored (one KV value per community and
 * day): four columns of 1,440 whole W·ms, minute 0 at 00:00 UTC, 0 where nothing was
 * measured. UTC days, not `--tz` days, so that what is stored does not depend on a flag; a
 * local day reads two records. Shared energy and the KPIs are not stored: they follow from
 * these sums for any bucket size.
 *
 * With them, written in the same value (issue 17): per meter the data time up to which its
 * energy of that day is counted (`cursors`), so that an aggregator rebuilt from an older
 * snapshot does not count an interval twice; and per minute the readings that came too late
 * to be integrated (`late`, sparse), which keep their bucket from being final.
 */
interface DayRecord {
  /** The UTC date, YYYY-MM-DD. */
  readonly day: string;
  readonly gen: readonly number[];
  readonly con: readonly number[];
  readonly imp: readonly number[];
  readonly exp: readonly number[];
  /** meterId → ms since the day's start up to which that meter's energy is in this record. */
  readonly cursors?: Readonly<Record<string, number>>;
  /** minute index → late readings. */
  readonly late?: Readonly<Record<string, number>>;
}

/** A day of a community's energy, decoded. */
export interface Day {
  readonly dayStartMs: number;
  readonly minutes: Map<number, Energy>;
  /** meterId → data time (ms) up to which the meter's energy of this day is counted. */
  readonly cursors: Map<string, number>;
  /** minute start → readings too late to be integrated. */
  readonly late: Map<number, number>;
}

export function utcDayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** A day as JSON: its minutes within the UTC day starting at `dayStartMs`, the meters' cursors and the late readings. */
export function encodeDay(dayStartMs: number, minutes: ReadonlyMap<number, Energy>, cursors: ReadonlyMap<string, number> = new Map(), late: ReadonlyMap<number, number> = new Map()): string {
  const column = () => new Array<number>(MINUTES_PER_DAY).fill(0);
  const record = { day: new Date(dayStartMs).toISOString().slice(0, 10), gen: column(), con: column(), imp: column(), exp: column() };
  for (const [minuteStartMs, energy] of minutes) {
    const index = (minuteStartMs - dayStartMs) / MINUTE_MS;
    if (index < 0 || index >= MINUTES_PER_DAY) continue;
    record.gen[index] = energy.genWms;
    record.con[index] = energy.conWms;
    record.imp[index] = energy.importWms;
    record.exp[index] = energy.exportWms;
  }
  const lateByIndex = [...late].filter(([minuteStartMs]) => minuteStartMs >= dayStartMs && minuteStartMs < dayStartMs + DAY_MS).map(([minuteStartMs, count]) => [String((minuteStartMs - dayStartMs) / MINUTE_MS), count]);
  return JSON.stringify({
    ...record,
    ...(cursors.size && { cursors: Object.fromEntries([...cursors].map(([meterId, atMs]) => [meterId, atMs - dayStartMs])) }),
    ...(lateByIndex.length && { late: Object.fromEntries(lateByIndex) }),
  } satisfies DayRecord);
}

function isColumn(value: unknown): value is number[] {
  return Array.isArray(value) && value.length === MINUTES_PER_DAY && value.every((n) => Number.isSafeInteger(n) && n >= 0);
}

function isCountMap(value: unknown): value is Record<string, number> {
  return value === undefined || (typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every((n) => Number.isSafeInteger(n)));
}

/** A stored day back: per-minute sums (minutes without data left out), cursors and late readings; undefined when malformed. */
export function decodeDay(text: string): Day | undefined {
  let value: Partial<Record<keyof DayRecord, unknown>>;
  try {
    value = JSON.parse(text) as typeof value;
  } catch {
    return undefined;
  }
  const { day, gen, con, imp, exp, cursors, late } = value ?? {};
  const dayStartMs = typeof day === "string" && /^\d{4}-\d{2}-\d{2}$/.test(day) ? Date.parse(`${day}T00:00:00Z`) : Number.NaN;
  if (!Number.isFinite(dayStartMs) || !isColumn(gen) || !isColumn(con) || !isColumn(imp) || !isColumn(exp) || !isCountMap(cursors) || !isCountMap(late)) return undefined;
  const minutes = new Map<number, Energy>();
  for (let index = 0; index < MINUTES_PER_DAY; index += 1) {
    const energy = { genWms: gen[index]!, conWms: con[index]!, importWms: imp[index]!, exportWms: exp[index]! };
    if (energy.genWms || energy.conWms || energy.importWms || energy.exportWms) minutes.set(dayStartMs + index * MINUTE_MS, energy);
  }
  return {
    dayStartMs,
    minutes,
    cursors: new Map(Object.entries(cursors ?? {}).map(([meterId, offsetMs]) => [meterId, dayStartMs + offsetMs])),
    late: new Map(Object.entries(late ?? {}).map(([index, count]) => [dayStartMs + Number(index) * MINUTE_MS, count])),
  };
}

import { type Day, MINUTES_PER_DAY, utcDayStart } from "../energy/day-record.js";
import { MINUTE_MS, type PowerReading, addMinutes, minuteSlices } from "../energy/meter-energy.js";

const DAY_MS = MINUTES_PER_DAY * MINUTE_MS;

/** Adds counts `from` into `into`. */
export function addCounts<K>(into: Map<K, number>, from: ReadonlyMap<K, number>): void {
  for (const [key, count] of from) into.set(key, (into.get(key) ?? 0) + count);
}

/** A meter's `power` from `fromMs` to `toMs`, within one UTC day. */
export interface Segment {
  readonly meterId: string;
  readonly fromMs: number;
  readonly toMs: number;
  readonly power: PowerReading;
}

/** Adds a segment to a day, except what the meter's cursor says the day holds already; moves the cursor on. */
export function addSegment(day: Day, { meterId, fromMs, toMs, power }: Segment): void {
  const from = Math.max(fromMs, day.cursors.get(meterId) ?? Number.NEGATIVE_INFINITY);
  if (toMs <= from) return;
  addMinutes(day.minutes, minuteSlices(from, toMs, power));
  day.cursors.set(meterId, toMs);
}

/**
 * A UTC day of a community's energy to store (see day-record.ts): with `merge` false the
 * whole day as it is held in memory, to write as it is; with `merge` true, for a day older than
 * those held, the meters' segments and late readings since it was last stored, to add to its
 * stored record — each segment against that record's cursors, so it too is counted once.
 */
export interface DirtyDay extends Day {
  readonly merge: boolean;
  readonly segments: readonly Segment[];
}

/** What came for a day older than those held: segments to add to its stored record, and late readings. */
interface LateDay extends Day {
  readonly segments: Segment[];
}

const emptyDay = (dayStartMs: number): LateDay => ({ dayStartMs, minutes: new Map(), cursors: new Map(), late: new Map(), segments: [] });
const copyDay = (day: Day): Day => ({ dayStartMs: day.dayStartMs, minutes: new Map(day.minutes), cursors: new Map(day.cursors), late: new Map(day.late) });

/**
 * A community's energy per minute, by UTC day. The day of the newest reading and the day
 * before are held whole in memory (restored from KV with `restoreDay`); energy that comes late
 * for an older day is kept apart until stored, to be added to that day's stored record.
 *
 * Each held day keeps, per meter, the data time up to which that meter's energy is in it (its
 * cursor): energy offered again before a cursor is not added again. That is what makes energy
 * exactly-once through crashes: the day record is stored before the snapshot, so after a crash
 * in between, the aggregator rebuilt from the older snapshot integrates the redelivered readings
 * again, and the stored cursors keep their energy from being counted twice. Pure: no I/O.
 */
export class DayLedger {
  /** Whole days held in memory, by day start. */
  private readonly days = new Map<number, Day>();
  /** Held days changed since last taken. */
  private dirtyDays = new Set<number>();
  /** What came for days older than those held, since last taken. */
  private lateDays = new Map<number, LateDay>();
  /** The oldest day held: the day before that of the newest reading. */
  private firstHeldDayMs = Number.NEGATIVE_INFINITY;

  /** A reading of `measuredAtMs` was seen: hold its day and the day before. */
  holdDaysUpTo(measuredAtMs: number): void {
    this.firstHeldDayMs = Math.max(this.firstHeldDayMs, utcDayStart(measuredAtMs) - DAY_MS);
  }

  /** The days held whole: load their stored records (`restoreDay`) before adding energy. */
  heldDays(): number[] {
    return Number.isFinite(this.firstHeldDayMs) ? [this.firstHeldDayMs, this.firstHeldDayMs + DAY_MS] : [];
  }

  /** Loads a stored day (a day of `heldDays`). */
  restoreDay(day: Day): void {
    this.days.set(day.dayStartMs, copyDay(day));
  }

  /** The day a minute belongs in: a held day (marked changed), or what came for an older one. */
  private dayOf(minuteStartMs: number): { readonly held: Day } | { readonly late: LateDay } {
    const dayStartMs = utcDayStart(minuteStartMs);
    let day = this.days.get(dayStartMs);
    if (day || dayStartMs >= this.firstHeldDayMs) {
      // A held day not in memory yet is new: the days held were restored on loading.
      if (!day) this.days.set(dayStartMs, (day = emptyDay(dayStartMs)));
      this.dirtyDays.add(dayStartMs);
      return { held: day };
    }
    let late = this.lateDays.get(dayStartMs);
    if (!late) this.lateDays.set(dayStartMs, (late = emptyDay(dayStartMs)));
    return { late };
  }

  /** Adds a meter's `power` from `fromMs` to `toMs`, except what its cursor says a day holds already. */
  add(meterId: string, fromMs: number, toMs: number, power: PowerReading): void {
    for (let dayStartMs = utcDayStart(fromMs); dayStartMs < toMs; dayStartMs += DAY_MS) {
      const segment = { meterId, fromMs: Math.max(fromMs, dayStartMs), toMs: Math.min(toMs, dayStartMs + DAY_MS), power };
      const day = this.dayOf(segment.fromMs);
      if ("held" in day) addSegment(day.held, segment);
      else day.late.segments.push(segment);
    }
  }

  /** A reading of `measuredAtMs` came too late to be integrated: its minute counts it. */
  countLate(measuredAtMs: number): void {
    const minuteStartMs = Math.floor(measuredAtMs / MINUTE_MS) * MINUTE_MS;
    const found = this.dayOf(minuteStartMs);
    const day = "held" in found ? found.held : found.late;
    day.late.set(minuteStartMs, (day.late.get(minuteStartMs) ?? 0) + 1);
  }

  /**
   * The days that changed since the last call (copies), and forgets held days older than the
   * day before the newest reading: once stored they are read from KV. If storing a day fails,
   * hand it to `putBack`.
   */
  take(): DirtyDay[] {
    const taken: DirtyDay[] = [
      ...[...this.dirtyDays].map((dayStartMs) => ({ ...copyDay(this.days.get(dayStartMs)!), merge: false, segments: [] })),
      ...[...this.lateDays.values()].map((day) => ({ ...day, merge: true })),
    ];
    this.dirtyDays = new Set();
    this.lateDays = new Map();
    for (const dayStartMs of this.days.keys()) if (dayStartMs < this.firstHeldDayMs) this.days.delete(dayStartMs);
    return taken;
  }

  /** After a failed store of days: they are dirty again, a whole day forgotten meanwhile held again. */
  putBack(days: Iterable<DirtyDay>): void {
    for (const { merge, segments, ...taken } of days) {
      const { dayStartMs } = taken;
      if (!merge && this.days.has(dayStartMs)) {
        // Still held: the day in memory has all of it and more.
        this.dirtyDays.add(dayStartMs);
        continue;
      }
      // What came since it was taken was kept apart: it belongs with it.
      const sinceTaken = this.lateDays.get(dayStartMs);
      const day: LateDay = { ...taken, segments: [...segments, ...(sinceTaken?.segments ?? [])] };
      addCounts(day.late, sinceTaken?.late ?? new Map());
      if (merge) this.lateDays.set(dayStartMs, day);
      else {
        // A whole day again: its segments go into it, against its cursors.
        for (const segment of day.segments.splice(0)) addSegment(day, segment);
        this.lateDays.delete(dayStartMs);
        this.days.set(dayStartMs, day);
        this.dirtyDays.add(dayStartMs);
      }
    }
  }
}

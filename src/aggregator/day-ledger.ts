import { type Day, MINUTES_PER_DAY, utcDayStart } from "../energy/day-record.js";
import { type Energy, MINUTE_MS, type MinuteEnergy, type PowerReading, addMinutes, minuteSlices } from "../energy/meter-energy.js";

const DAY_MS = MINUTES_PER_DAY * MINUTE_MS;

/** Adds per-minute sums `from` into `into`. */
export function addMinuteSums(into: Map<number, Energy>, from: ReadonlyMap<number, Energy>): void {
  addMinutes(
    into,
    [...from].map(([minuteStartMs, energy]): MinuteEnergy => ({ minuteStartMs, ...energy })),
  );
}

/** Adds counts `from` into `into`. */
export function addCounts<K>(into: Map<K, number>, from: ReadonlyMap<K, number>): void {
  for (const [key, count] of from) into.set(key, (into.get(key) ?? 0) + count);
}

/** Raises each cursor of `into` to that of `from`. */
export function raiseCursors(into: Map<string, number>, from: ReadonlyMap<string, number>): void {
  for (const [meterId, atMs] of from) into.set(meterId, Math.max(into.get(meterId) ?? Number.NEGATIVE_INFINITY, atMs));
}

/**
 * A UTC day of a community's energy to store (see day-record.ts): with `merge` false the
 * whole day as it is held in memory, to write as it is; with `merge` true only what was added
 * since it was last stored, for a day older than those held, to add to its stored record.
 */
export interface DirtyDay extends Day {
  readonly merge: boolean;
}

const emptyDay = (dayStartMs: number): Day => ({ dayStartMs, minutes: new Map(), cursors: new Map(), late: new Map() });
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
  /** What was added to days older than those held, since last taken. */
  private lateDays = new Map<number, Day>();
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

  /** The day a minute belongs in: a held day (marked changed), or the late part of an older one. */
  private dayOf(minuteStartMs: number): Day {
    const dayStartMs = utcDayStart(minuteStartMs);
    let day = this.days.get(dayStartMs);
    if (day || dayStartMs >= this.firstHeldDayMs) {
      // A held day not in memory yet is new: the days held were restored on loading.
      if (!day) this.days.set(dayStartMs, (day = emptyDay(dayStartMs)));
      this.dirtyDays.add(dayStartMs);
    } else if (!(day = this.lateDays.get(dayStartMs))) {
      this.lateDays.set(dayStartMs, (day = emptyDay(dayStartMs)));
    }
    return day;
  }

  /** Adds a meter's `power` from `fromMs` to `toMs`, except what its cursor says a day holds already. */
  add(meterId: string, fromMs: number, toMs: number, power: PowerReading): void {
    for (let dayStartMs = utcDayStart(fromMs); dayStartMs < toMs; dayStartMs += DAY_MS) {
      const day = this.dayOf(Math.max(fromMs, dayStartMs));
      const from = Math.max(fromMs, dayStartMs, day.cursors.get(meterId) ?? Number.NEGATIVE_INFINITY);
      const to = Math.min(toMs, dayStartMs + DAY_MS);
      if (to <= from) continue;
      addMinutes(day.minutes, minuteSlices(from, to, power));
      day.cursors.set(meterId, to);
    }
  }

  /** A reading of `measuredAtMs` came too late to be integrated: its minute counts it. */
  countLate(measuredAtMs: number): void {
    const minuteStartMs = Math.floor(measuredAtMs / MINUTE_MS) * MINUTE_MS;
    const day = this.dayOf(minuteStartMs);
    day.late.set(minuteStartMs, (day.late.get(minuteStartMs) ?? 0) + 1);
  }

  /**
   * The days that changed since the last call (copies), and forgets held days older than the
   * day before the newest reading: once stored they are read from KV. If storing a day fails,
   * hand it to `putBack`.
   */
  take(): DirtyDay[] {
    const taken: DirtyDay[] = [
      ...[...this.dirtyDays].map((dayStartMs) => ({ ...copyDay(this.days.get(dayStartMs)!), merge: false })),
      ...[...this.lateDays.values()].map((day) => ({ ...day, merge: true })),
    ];
    this.dirtyDays = new Set();
    this.lateDays = new Map();
    for (const dayStartMs of this.days.keys()) if (dayStartMs < this.firstHeldDayMs) this.days.delete(dayStartMs);
    return taken;
  }

  /** After a failed store of days: they are dirty again, a whole day forgotten meanwhile held again. */
  putBack(days: Iterable<DirtyDay>): void {
    for (const { merge, ...day } of days) {
      const { dayStartMs } = day;
      if (!merge && this.days.has(dayStartMs)) {
        // Still held: the day in memory has all of it and more.
        this.dirtyDays.add(dayStartMs);
        continue;
      }
      // What came since it was taken was kept apart as late: it belongs with it.
      const sinceTaken = this.lateDays.get(dayStartMs);
      if (sinceTaken) mergeInto(day, sinceTaken);
      if (merge) this.lateDays.set(dayStartMs, day);
      else {
        this.lateDays.delete(dayStartMs);
        this.days.set(dayStartMs, day);
        this.dirtyDays.add(dayStartMs);
      }
    }
  }
}

/** Adds what `from` holds to `into`: energy and late counts summed, cursors raised. */
export function mergeInto(into: Day, from: Day): void {
  addMinuteSums(into.minutes, from.minutes);
  addCounts(into.late, from.late);
  raiseCursors(into.cursors, from.cursors);
}

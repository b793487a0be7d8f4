import { MINUTES_PER_DAY, utcDayStart } from "../energy/day-record.js";
import { type Energy, MINUTE_MS, type MinuteEnergy, addMinutes } from "../energy/meter-energy.js";

const DAY_MS = MINUTES_PER_DAY * MINUTE_MS;

/** Adds per-minute sums `from` into `into`. */
export function addMinuteSums(into: Map<number, Energy>, from: ReadonlyMap<number, Energy>): void {
  addMinutes(
    into,
    [...from].map(([minuteStartMs, energy]): MinuteEnergy => ({ minuteStartMs, ...energy })),
  );
}

/**
 * A UTC day of a community's energy to store (see day-record.ts): with `merge` false the
 * whole day as it is held in memory, to write as it is; with `merge` true only what was added
 * since it was last stored, for a day older than those held, to add to its stored record.
 */
export interface DirtyDay {
  readonly dayStartMs: number;
  readonly minutes: Map<number, Energy>;
  readonly merge: boolean;
}

/**
 * A community's energy per minute, by UTC day. The day of the newest reading and the day
 * before are held whole in memory (restored from KV with `restoreDay`); energy that comes late
 * for an older day is kept apart until stored, to be added to that day's stored record. Pure: no I/O.
 */
export class DayLedger {
  /** Whole days held in memory: day start → minute start → energy. */
  private readonly days = new Map<number, Map<number, Energy>>();
  /** Held days changed since last taken. */
  private dirtyDays = new Set<number>();
  /** Energy added to days older than those held, since last taken. */
  private lateDays = new Map<number, Map<number, Energy>>();
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

  /** Loads a stored day's per-minute sums (a day of `heldDays`). */
  restoreDay(dayStartMs: number, minutes: ReadonlyMap<number, Energy>): void {
    this.days.set(dayStartMs, new Map(minutes));
  }

  add(slices: readonly MinuteEnergy[]): void {
    for (const slice of slices) {
      const dayStartMs = utcDayStart(slice.minuteStartMs);
      let minutes = this.days.get(dayStartMs);
      if (minutes || dayStartMs >= this.firstHeldDayMs) {
        // A held day not in memory yet is new: the days held were restored on loading.
        if (!minutes) this.days.set(dayStartMs, (minutes = new Map()));
        this.dirtyDays.add(dayStartMs);
      } else if (!(minutes = this.lateDays.get(dayStartMs))) {
        this.lateDays.set(dayStartMs, (minutes = new Map()));
      }
      addMinutes(minutes, [slice]);
    }
  }

  /**
   * The days whose energy changed since the last call (copies), and forgets held days older
   * than the day before the newest reading: once stored they are read from KV. If storing a
   * day fails, hand it to `putBack`.
   */
  take(): DirtyDay[] {
    const taken: DirtyDay[] = [
      ...[...this.dirtyDays].map((dayStartMs) => ({ dayStartMs, minutes: new Map(this.days.get(dayStartMs)!), merge: false })),
      ...[...this.lateDays].map(([dayStartMs, minutes]) => ({ dayStartMs, minutes, merge: true })),
    ];
    this.dirtyDays = new Set();
    this.lateDays = new Map();
    for (const dayStartMs of this.days.keys()) if (dayStartMs < this.firstHeldDayMs) this.days.delete(dayStartMs);
    return taken;
  }

  /** After a failed store of days: they are dirty again, a whole day forgotten meanwhile held again. */
  putBack(days: Iterable<DirtyDay>): void {
    for (const { dayStartMs, minutes, merge } of days) {
      if (merge) {
        addMinuteSums(minutes, this.lateDays.get(dayStartMs) ?? new Map());
        this.lateDays.set(dayStartMs, minutes);
        continue;
      }
      if (!this.days.has(dayStartMs)) {
        // Energy that came since it was forgotten was kept apart as late: it belongs to the whole day.
        addMinuteSums(minutes, this.lateDays.get(dayStartMs) ?? new Map());
        this.lateDays.delete(dayStartMs);
        this.days.set(dayStartMs, minutes);
      }
      this.dirtyDays.add(dayStartMs);
    }
  }
}

import { type Energy, type MinuteEnergy, type PowerReading, addMinutes, minuteSlices } from "../../src/energy/meter-energy.js";

/**
 * The rule before issue 17 (step-hold with one fixed limit, in arrival order), kept to show
 * where it is wrong: `previous`'s power from its measuredAt until `next`, for at most
 * `holdLimitMs`; a `next` that is not newer closes nothing.
 */
export function heldEnergy(previous: PowerReading, next: PowerReading, holdLimitMs: number): MinuteEnergy[] {
  return minuteSlices(previous.measuredAtMs, Math.min(next.measuredAtMs, previous.measuredAtMs + holdLimitMs), previous);
}

/**
 * A meter's readings in arrival order (stream order) integrated into energy per minute start by
 * the rule before issue 17 (heldEnergy).
 * Like the live totals, a reading not newer than the last accepted one changes nothing, so
 * replaying the same stream gives the same energy. The last reading's own interval is counted
 * once the next reading arrives.
 */
export function integrateReadings(readings: Iterable<PowerReading>, holdLimitMs: number): Map<number, Energy> {
  const minutes = new Map<number, Energy>();
  let last: PowerReading | undefined;
  for (const reading of readings) {
    if (last && reading.measuredAtMs <= last.measuredAtMs) continue;
    if (last) addMinutes(minutes, heldEnergy(last, reading, holdLimitMs));
    last = reading;
  }
  return minutes;
}

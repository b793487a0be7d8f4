import { type Energy, type PowerReading, addMinutes, heldEnergy } from "../../src/energy/meter-energy.js";

/**
 * A meter's readings in arrival order (stream order) integrated into energy per minute start.
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

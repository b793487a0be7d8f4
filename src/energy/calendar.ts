import { localTime } from "../domain/local-time.js";
import type { PeriodOf } from "./buckets.js";
import { MINUTE_MS } from "./meter-energy.js";

const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** No zone is more than 14 h ahead of UTC or 12 h behind it. */
const MAX_OFFSET_MS = 15 * HOUR_MS;

/** How far the clocks of an IANA time zone are ahead of UTC at an instant (DST included). */
function offsetMs(ms: number, timeZone: string): number {
  return localTime(new Date(ms), timeZone).getTime() - ms;
}

/** Days since the epoch of the local date at an instant. */
function localDayNumber(ms: number, timeZone: string): number {
  return Math.floor((ms + offsetMs(ms, timeZone)) / DAY_MS);
}

/**
 * The first minute whose local date is `dayNumber` or later: local midnight, or where a zone
 * skips midnight, the moment its clocks jump. A binary search rather than "midnight minus
 * the offset", because the offset at midnight is not the offset later that day on a DST day.
 */
function firstMinuteOf(dayNumber: number, timeZone: string): number {
  let before = (dayNumber * DAY_MS - MAX_OFFSET_MS) / MINUTE_MS;
  let from = (dayNumber * DAY_MS + MAX_OFFSET_MS) / MINUTE_MS;
  while (from - before > 1) {
    const middle = Math.floor((before + from) / 2);
    if (localDayNumber(middle * MINUTE_MS, timeZone) >= dayNumber) from = middle;
    else before = middle;
  }
  return from * MINUTE_MS;
}

/** The local hour holding an instant, in an IANA time zone ("UTC" for UTC); always 60 minutes. */
export function hoursIn(timeZone: string): PeriodOf {
  return (ms) => {
    const offset = offsetMs(ms, timeZone);
    const startMs = Math.floor((ms + offset) / HOUR_MS) * HOUR_MS - offset;
    return { startMs, endMs: startMs + HOUR_MS };
  };
}

/**
 * The local day holding an instant, in an IANA time zone: 24 hours, or 23 and 25 on the days
 * daylight saving time starts and ends. Day starts are remembered, so rolling up a month
 * costs a search per day, not per bucket.
 */
export function daysIn(timeZone: string): PeriodOf {
  const starts = new Map<number, number>();
  const startOf = (dayNumber: number): number => {
    let start = starts.get(dayNumber);
    if (start === undefined) starts.set(dayNumber, (start = firstMinuteOf(dayNumber, timeZone)));
    return start;
  };
  return (ms) => {
    const dayNumber = localDayNumber(ms, timeZone);
    return { startMs: startOf(dayNumber), endMs: startOf(dayNumber + 1) };
  };
}

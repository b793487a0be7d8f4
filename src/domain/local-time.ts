/** The time zone of the BDEW profiles, and of the scenarios unless they say otherwise. */
export const DEFAULT_TIME_ZONE = "Europe/Berlin";

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** Whether `timeZone` is an IANA zone this runtime knows (e.g. Europe/Berlin). */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * The wall-clock time in `timeZone` at `date`, as a Date whose UTC fields read as that local
 * time: load profiles, EV arrivals and the daily temperature cycle follow local time
 * (daylight saving included), the sun follows UTC.
 */
export function localTime(date: Date, timeZone: string): Date {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(date)) if (part.type !== "literal") parts[part.type] = Number(part.value);
  return new Date(Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!, date.getUTCMilliseconds()));
}

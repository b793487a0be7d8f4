import { InvalidArgumentError } from "commander";
import { parseOrigins } from "../api/cors.js";
import { parseArchiveTime } from "../archive/export-plan.js";
import { parseRate } from "../api/rate-limit.js";
import { parseDuration } from "../domain/duration.js";
import { idProblem } from "../domain/ids.js";
import { parseTimestamp } from "../domain/reading.js";
import { checkTimeZone, parseTime } from "../energy/history-query.js";
import { type FaultSpec, parseFaults } from "../sim/faults.js";
import { parseQualifiedName, parseReceiver, parseWatchTarget } from "../wear-emu/bridge-protocol.js";
import { parseGlanceRate } from "../wear-emu/glances.js";

/** commander argument parsers that reject bad values with one sentence (exit code 2). */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

export function duration(min = 1): (value: string) => number {
  return (value) => {
    const ms = parseDuration(value);
    if (ms === undefined || ms < min) throw new InvalidArgumentError("expected a duration like 500ms, 2s, 5m, 1h or 1d.");
    return ms;
  };
}

export function url(schemes: readonly string[]): (value: string) => string {
  return (value) => {
    for (const one of value.split(",")) {
      let parsed: URL;
      try {
        parsed = new URL(one);
      } catch {
        throw new InvalidArgumentError(`expected a URL like ${schemes[0]}://127.0.0.1:port.`);
      }
      if (!schemes.includes(parsed.protocol.replace(/:$/, ""))) throw new InvalidArgumentError(`expected a ${schemes.join(" or ")} URL.`);
    }
    return value;
  };
}

/** A parser of an id (`[A-Za-z0-9_-]{1,64}`) whose error names `field`. */
function idOf(field: string): (value: string) => string {
  return (value) => {
    const problem = idProblem(field, value);
    if (problem) throw new InvalidArgumentError(`${problem}.`);
    return value;
  };
}

export const communityId = idOf("the community id");
export const meterId = idOf("the meter id");

export function oneOf<T extends string>(values: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(values as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${values.join(", ")}.`);
    return value as T;
  };
}

/** An ISO-8601 time with a zone, as milliseconds since the epoch. */
export function timestamp(value: string): number {
  const ms = parseTimestamp(value);
  if (ms === undefined) throw new InvalidArgumentError("expected an ISO-8601 time with a zone, e.g. 2026-06-21T00:00:00Z.");
  return ms;
}

/** A plain decimal above 0 (up to 1e9), or undefined. */
function decimalAboveZero(value: string): number | undefined {
  const n = Number(value);
  return /^\d*\.?\d+$/.test(value) && n > 0 && n <= 1e9 ? n : undefined;
}

/** A speed factor > 0, or `max` (Infinity). */
export function speed(value: string): number {
  if (value === "max") return Number.POSITIVE_INFINITY;
  const n = decimalAboveZero(value);
  if (n === undefined) throw new InvalidArgumentError("expected a factor above 0 (e.g. 60) or max.");
  return n;
}

/** A number above 0, e.g. `--max-kw 7.5`. */
export function positiveNumber(value: string): number {
  const n = decimalAboveZero(value);
  if (n === undefined) throw new InvalidArgumentError("expected a number above 0.");
  return n;
}

/** A parser of the domain, its error sentence turned into commander's usage error. */
function usage<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (err) {
      throw new InvalidArgumentError(`${(err as Error).message}.`);
    }
  };
}

export const faults: (value: string) => FaultSpec = usage(parseFaults);

/** Glances per day from `60/day` or `4/h`. */
export const glanceRate: (value: string) => number = usage(parseGlanceRate);

export const watchTarget = usage(parseWatchTarget);
export const qualifiedName = usage(parseQualifiedName);
export const receiverClass = usage(parseReceiver);

/** `--rate-limit`: requests per second, null for `off`. */
/**
 * `--rate-limit`: readings/s, or "off". Not null for off: commander turns a parser's null into an
 * empty string, which reached the API as a limit of "" per second (`serve --rate-limit off` failed).
 */
export function rate(value: string): number | "off" {
  return usage(parseRate)(value) ?? "off";
}

/** A repeatable `--cors`, each a comma-separated list of origins. */
export function collectOrigins(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), ...usage(parseOrigins)(value)];
}

/** A time of `ecwatch history`: ISO-8601 with a zone, relative to now (`-24h`), or `now`; passed on to the API as written. */
export function historyTime(value: string): string {
  if (parseTime(value, Date.now()) === undefined) throw new InvalidArgumentError("expected ISO-8601 with a zone (2026-11-22T00:00:00Z), a time relative to now (-24h, -90m, -7d) or now.");
  return value.trim();
}

/** An IANA time zone, e.g. Europe/Berlin, or UTC. */
export function timeZone(value: string): string {
  if (!checkTimeZone(value)) throw new InvalidArgumentError("expected an IANA time zone such as Europe/Berlin or UTC.");
  return value;
}

/** A time of `ecwatch export`: as `historyTime`, or a date alone (00:00 UTC); resolved by the command, so that --from and --to share one "now". */
export function archiveTime(value: string): string {
  if (parseArchiveTime(value, Date.now()) === undefined) throw new InvalidArgumentError("expected ISO-8601 with a zone (2026-06-21T06:00:00Z), a date (2026-06-21, 00:00 UTC), a time relative to now (-24h, -7d) or now.");
  return value.trim();
}

import { parseDuration } from "../domain/duration.js";
import { parseTimestamp } from "../domain/reading.js";
import { isTimeZone } from "../domain/local-time.js";
import type { HistoryBucket } from "./buckets.js";
import { MINUTE_MS } from "./meter-energy.js";

/**
 * The parameters of `GET /communities/{id}/history` and `/kpis` (issue 11), parsed and checked
 * here, pure, so that the API and `ecwatch history` refuse the same things with the same words.
 */

const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

export const STEPS = { "1m": MINUTE_MS, "15m": 15 * MINUTE_MS, "1h": HOUR_MS, "1d": DAY_MS } as const;
export type Step = keyof typeof STEPS;
export const STEP_NAMES = Object.keys(STEPS) as Step[];

export const KPI_PERIODS = ["today", "24h", "7d"] as const;
export type KpiPeriod = (typeof KPI_PERIODS)[number];

/** At most this many buckets per request: 7 days of minutes, ≈ 105 days of quarter hours. */
export const MAX_BUCKETS = 10_080;
/** At most this much data time per request, whatever the step: one KV read per UTC day. */
export const MAX_SPAN_MS = 366 * DAY_MS;

export const DEFAULT_HISTORY = { from: "-24h", to: "now", step: "15m" as Step, tz: "UTC" } as const;

export interface HistoryQuery {
  readonly fromMs: number;
  readonly toMs: number;
  readonly step: Step;
  readonly timeZone: string;
}

export interface KpiQuery {
  readonly period: KpiPeriod;
  readonly timeZone: string;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/**
 * A point in time: `now`, relative to now (`-24h`, `-90m`, `-7d`; a duration as on the
 * command line, in the past), or ISO-8601 with a zone. Undefined when it is none of them.
 */
export function parseTime(text: string, nowMs: number): number | undefined {
  const value = text.trim();
  if (value === "now") return nowMs;
  if (value.startsWith("-")) {
    const ms = parseDuration(value.slice(1));
    return ms === undefined ? undefined : nowMs - ms;
  }
  return parseTimestamp(value);
}

/** Whether `value` is an IANA time zone (or UTC). */
export function checkTimeZone(value: string): boolean {
  return value === "UTC" || isTimeZone(value);
}

/** The only value of a parameter; an error naming it when it is repeated or empty. */
export function single(params: URLSearchParams, name: string): Parsed<string | undefined> {
  const values = params.getAll(name);
  if (values.length > 1) return { ok: false, error: `${name} is given ${values.length} times; give it once` };
  if (values.length === 1 && values[0]!.trim() === "") return { ok: false, error: `${name} is empty` };
  return { ok: true, value: values[0] };
}

export function unknownParameter(params: URLSearchParams, known: readonly string[]): string | undefined {
  const unknown = [...new Set(params.keys())].find((name) => !known.includes(name));
  return unknown === undefined ? undefined : `unknown parameter ${JSON.stringify(unknown)}; this endpoint takes ${known.join(", ")}`;
}

function timeZoneOf(params: URLSearchParams): Parsed<string> {
  const tz = single(params, "tz");
  if (!tz.ok) return tz;
  const value = tz.value ?? DEFAULT_HISTORY.tz;
  if (!checkTimeZone(value)) return { ok: false, error: `tz must be an IANA time zone such as Europe/Berlin or UTC, not ${JSON.stringify(value)}` };
  return { ok: true, value };
}

/** How many buckets of `step` lie in [fromMs, toMs) at most (days and hours of a zone may be 23 or 25 hours: counted at their shortest). */
export function bucketCount(fromMs: number, toMs: number, step: Step): number {
  const stepMs = step === "1d" ? 23 * HOUR_MS : STEPS[step];
  return Math.ceil((toMs - fromMs) / stepMs);
}

/** The query of GET /communities/{id}/history, with defaults (from=-24h, to=now, step=15m, tz=UTC). */
export function parseHistoryQuery(params: URLSearchParams, nowMs: number): Parsed<HistoryQuery> {
  const unknown = unknownParameter(params, ["from", "to", "step", "tz"]);
  if (unknown) return { ok: false, error: unknown };
  const times: Record<"from" | "to", number> = { from: 0, to: 0 };
  for (const name of ["from", "to"] as const) {
    const given = single(params, name);
    if (!given.ok) return given;
    const ms = parseTime(given.value ?? DEFAULT_HISTORY[name], nowMs);
    if (ms === undefined) return { ok: false, error: `${name} must be ISO-8601 with a zone (2026-11-22T00:00:00Z), relative to now (-24h, -90m, -7d) or now, not ${JSON.stringify(given.value)}` };
    times[name] = ms;
  }
  const stepGiven = single(params, "step");
  if (!stepGiven.ok) return stepGiven;
  const step = stepGiven.value ?? DEFAULT_HISTORY.step;
  if (!(STEP_NAMES as string[]).includes(step)) return { ok: false, error: `step must be one of ${STEP_NAMES.join(", ")}, not ${JSON.stringify(step)}` };
  const timeZone = timeZoneOf(params);
  if (!timeZone.ok) return timeZone;
  const { from: fromMs, to: toMs } = times;
  if (toMs <= fromMs) return { ok: false, error: `to (${new Date(toMs).toISOString()}) must be later than from (${new Date(fromMs).toISOString()})` };
  if (toMs - fromMs > MAX_SPAN_MS) return { ok: false, error: `from and to span more than 366 days; ask for at most 366 days at once` };
  const buckets = bucketCount(fromMs, toMs, step as Step);
  if (buckets > MAX_BUCKETS) {
    const days = Math.floor((MAX_BUCKETS * STEPS[step as Step]) / DAY_MS);
    return { ok: false, error: `step ${step} over from…to gives up to ${buckets} buckets, more than ${MAX_BUCKETS}: at step ${step} ask for at most ${days} days, or choose a longer step` };
  }
  return { ok: true, value: { fromMs, toMs, step: step as Step, timeZone: timeZone.value } };
}

/** The query of GET /communities/{id}/kpis, with defaults (period=today, tz=UTC). */
export function parseKpiQuery(params: URLSearchParams): Parsed<KpiQuery> {
  const unknown = unknownParameter(params, ["period", "tz"]);
  if (unknown) return { ok: false, error: unknown };
  const given = single(params, "period");
  if (!given.ok) return given;
  const period = given.value ?? "today";
  if (!(KPI_PERIODS as readonly string[]).includes(period)) return { ok: false, error: `period must be one of ${KPI_PERIODS.join(", ")}, not ${JSON.stringify(period)}` };
  const timeZone = timeZoneOf(params);
  if (!timeZone.ok) return timeZone;
  return { ok: true, value: { period: period as KpiPeriod, timeZone: timeZone.value } };
}

/** A bucket as the API answers it: times as ISO-8601, energy in Wh, fractions 0…1 or null, whether it is final. */
export type BucketJson = Omit<HistoryBucket, "startMs" | "endMs"> & { readonly start: string; readonly end: string };

export const BUCKET_FIELDS = ["start", "end", "genWh", "conWh", "importWh", "exportWh", "sharedWh", "gridImportWh", "gridExportWh", "selfSufficiency", "selfConsumption", "complete", "late"] as const;

export function bucketJson(bucket: HistoryBucket): BucketJson {
  const { startMs, endMs, ...rest } = bucket;
  return { start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString(), ...rest };
}

/** Rows as CSV (RFC 4180): a header of `fields`, one line per row, null as an empty field, CRLF line ends. */
export function toCsv<T extends object>(rows: readonly T[], fields: readonly (keyof T & string)[]): string {
  const cell = (value: unknown): string => {
    if (value === null || value === undefined) return "";
    const text = String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [fields.join(","), ...rows.map((row) => fields.map((field) => cell(row[field])).join(","))].map((line) => `${line}\r\n`).join("");
}

import { COMMUNITY_METER_ID, idProblem } from "./ids.js";

/** One smart meter's reading, published on `ec.<communityId>.meter.<meterId>`. */
export interface MeterReading {
  readonly meterId: string;
  readonly communityId: string;
  /** Power produced behind the meter (PV, battery discharge), whole watts ≥ 0. */
  readonly genW: number;
  /** Power consumed behind the meter, whole watts ≥ 0. */
  readonly conW: number;
  /** ISO-8601 data time of the measurement. */
  readonly measuredAt: string;
  /** Increases per meter, across simulator restarts too. */
  readonly seq: number;
  /** The meter's reporting interval in ms, when it declares one (else its cadence is learned). */
  readonly intervalMs?: number;
  /** true: genW/conW are the mean power over the `intervalMs` ending at measuredAt (gateway values, load profiles). */
  readonly averaged?: boolean;
}

/** The optional cadence fields a reading may carry (issue 17). */
export type CadenceFields = Pick<MeterReading, "intervalMs" | "averaged">;

/** The reference prototype's community-level reading, published on `ec.<communityId>.net`. */
export interface CommunityReading extends CadenceFields {
  readonly communityId: string;
  readonly genW: number;
  readonly conW: number;
  readonly measuredAt: string;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/**
 * Largest message accepted as a reading, in bytes of UTF-8: a reading is ~150 bytes. The HTTP
 * edge refuses larger bodies too; on the bus, a larger message is a dead letter (issue 10).
 */
export const MAX_READING_BYTES = 16 * 1024;

/** Largest power accepted for one reading: 1 GW, far above any community, far below float trouble. */
export const MAX_WATTS = 1e9;
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

function fail<T>(error: string): Parsed<T> {
  return { ok: false, error };
}

function wattsProblem(field: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return `${field} is required`;
  if (typeof value !== "number" || !Number.isFinite(value)) return `${field} must be a finite number of watts`;
  if (value < 0) return `${field} must not be negative`;
  if (value > MAX_WATTS) return `${field} must be at most ${MAX_WATTS} W`;
  return undefined;
}

/**
 * How far ahead of the receiver's clock a reading may be. A reading far in the future would
 * win over every later one of its meter (the newest measuredAt wins) and make all others
 * stale, so the HTTP edge refuses it. (The bus accepts any time: simulations and replays
 * may run ahead of the wall clock on purpose.)
 */
export const MAX_AHEAD_MS = 5 * 60_000;

/** The error sentence for a measuredAt too far ahead of `nowMs`, or undefined. */
export function aheadProblem(measuredAt: string, nowMs: number): string | undefined {
  const ms = parseTimestamp(measuredAt);
  return ms !== undefined && ms - nowMs > MAX_AHEAD_MS ? "measuredAt must not be more than 5 minutes in the future" : undefined;
}

/** Milliseconds since the epoch of an ISO-8601 timestamp with a zone, or undefined. */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  // The readings of one moment share their timestamp: the last answer is often the next.
  if (value === lastTimestamp.text) return lastTimestamp.ms;
  const ms = parseTimestampUncached(value);
  lastTimestamp = { text: value, ms };
  return ms;
}

let lastTimestamp: { readonly text: string; readonly ms: number | undefined } = { text: "", ms: undefined };

function parseTimestampUncached(value: string): number | undefined {
  const match = ISO_8601.exec(value);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  // Date.parse rolls 2026-02-30 over to March 2nd: check the fields themselves.
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days of a month (1–12) of the proleptic Gregorian calendar, as Date counts them (year 0000 is a leap year). */
function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
}

function timestampProblem(field: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return `${field} is required`;
  if (parseTimestamp(value) === undefined) return `${field} must be an ISO-8601 timestamp with a time zone, e.g. 2026-11-22T12:00:00Z`;
  return undefined;
}

/** Longest reporting interval accepted: a day. */
export const MAX_INTERVAL_MS = 86_400_000;

/** Whether `intervalMs` and `averaged`, when present, are valid; `averaged` needs the interval it is the mean over. */
function cadenceProblem(record: Record<string, unknown>): string | undefined {
  const { intervalMs, averaged } = record;
  if (intervalMs !== undefined && (typeof intervalMs !== "number" || !Number.isSafeInteger(intervalMs) || intervalMs < 1 || intervalMs > MAX_INTERVAL_MS)) {
    return `intervalMs must be an integer number of milliseconds from 1 to ${MAX_INTERVAL_MS}`;
  }
  if (averaged !== undefined && typeof averaged !== "boolean") return "averaged must be true or false";
  if (averaged === true && intervalMs === undefined) return "averaged needs intervalMs, the interval its power is the mean over";
  return undefined;
}

/** The cadence fields of a valid record, left out when absent. */
function cadenceFields(record: Record<string, unknown>): CadenceFields {
  return {
    ...(record.intervalMs !== undefined && { intervalMs: record.intervalMs as number }),
    ...(record.averaged !== undefined && { averaged: record.averaged as boolean }),
  };
}

function asRecord(body: unknown): Record<string, unknown> | undefined {
  return typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
}

/**
 * Validates a community-level reading. `defaultMeasuredAt` fills a missing timestamp
 * (the HTTP edge stamps the arrival time; the bus edge requires one).
 */
export function parseCommunityReading(body: unknown, defaultMeasuredAt?: string): Parsed<CommunityReading> {
  const record = asRecord(body);
  if (!record) return fail("the body must be a JSON object");
  const measuredAt = record.measuredAt ?? defaultMeasuredAt;
  const problem =
    idProblem("communityId", record.communityId) ??
    wattsProblem("genW", record.genW) ??
    wattsProblem("conW", record.conW) ??
    timestampProblem("measuredAt", measuredAt) ??
    cadenceProblem(record);
  if (problem) return fail(problem);
  return {
    ok: true,
    value: {
      communityId: record.communityId as string,
      genW: Math.round(record.genW as number),
      conW: Math.round(record.conW as number),
      measuredAt: measuredAt as string,
      ...cadenceFields(record),
    },
  };
}

/** Validates a meter reading. */
export function parseMeterReading(body: unknown): Parsed<MeterReading> {
  const record = asRecord(body);
  if (!record) return fail("the body must be a JSON object");
  const seq = record.seq;
  const problem =
    idProblem("meterId", record.meterId) ??
    (record.meterId === COMMUNITY_METER_ID ? `meterId ${COMMUNITY_METER_ID} is reserved for community-level readings` : undefined) ??
    idProblem("communityId", record.communityId) ??
    wattsProblem("genW", record.genW) ??
    wattsProblem("conW", record.conW) ??
    timestampProblem("measuredAt", record.measuredAt) ??
    (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0 ? "seq must be a non-negative integer" : undefined) ??
    cadenceProblem(record);
  if (problem) return fail(problem);
  return {
    ok: true,
    value: {
      meterId: record.meterId as string,
      communityId: record.communityId as string,
      genW: Math.round(record.genW as number),
      conW: Math.round(record.conW as number),
      measuredAt: record.measuredAt as string,
      seq: seq as number,
      ...cadenceFields(record),
    },
  };
}

/** Parses JSON text without throwing. */
export function parseJson(text: string): Parsed<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return fail("the body is not valid JSON");
  }
}

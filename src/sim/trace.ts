import { parseReadingSubject } from "../wire/names.js";
import { isValidId } from "../domain/ids.js";
import { parseTimestamp } from "../domain/reading.js";

/**
 * One line of a recorded trace (NDJSON): a message as it was published. `data` is the
 * reading's JSON object, or a string for a malformed message that was not valid JSON.
 */
export interface TraceEntry {
  readonly subject: string;
  readonly msgId?: string;
  readonly data: unknown;
}

export class TraceError extends Error {}

export function formatTraceLine(entry: TraceEntry): string {
  return JSON.stringify(entry);
}

/** Parses one line; throws a TraceError naming the line and the field. */
export function parseTraceLine(line: string, lineNumber: number): TraceEntry {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new TraceError(`line ${lineNumber}: not valid JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TraceError(`line ${lineNumber}: must be a JSON object`);
  const { subject, msgId, data } = value as Record<string, unknown>;
  if (typeof subject !== "string" || !subject) throw new TraceError(`line ${lineNumber}: subject must be a non-empty string`);
  if (msgId !== undefined && typeof msgId !== "string") throw new TraceError(`line ${lineNumber}: msgId must be a string`);
  if (data === undefined) throw new TraceError(`line ${lineNumber}: data is required`);
  // A replay publishes each line to its subject: only to a reading's, never to the JetStream or KV
  // API (`$JS.API.STREAM.DELETE.…`), the dead letters or a wildcard (issue 10).
  const where = parseReadingSubject(subject);
  if (!where || where.partition !== undefined || !isValidId(where.communityId) || (where.level === "meter" && !isValidId(where.meterId))) {
    throw new TraceError(`line ${lineNumber}: subject must be ec.<communityId>.net or ec.<communityId>.meter.<meterId>, ids of [A-Za-z0-9_-]{1,64}`);
  }
  return { subject, ...(msgId !== undefined && { msgId }), data };
}

/** Parses a whole trace, skipping blank lines. */
export function parseTrace(text: string): TraceEntry[] {
  const entries: TraceEntry[] = [];
  text.split("\n").forEach((line, index) => {
    if (line.trim()) entries.push(parseTraceLine(line, index + 1));
  });
  return entries;
}

/** The data time of an entry (its reading's measuredAt), or undefined for a malformed one. */
export function entryTimeMs(entry: TraceEntry): number | undefined {
  const data = entry.data;
  if (typeof data !== "object" || data === null) return undefined;
  return parseTimestamp((data as { measuredAt?: unknown }).measuredAt);
}

/**
 * The entry moved by `shiftMs` of data time: measuredAt, and seq (which the simulator
 * derives from data time) with it, so a replay rebased to now is newer than what came before.
 */
export function shiftEntry(entry: TraceEntry, shiftMs: number): TraceEntry {
  if (shiftMs === 0) return entry;
  // The id moves too (duplicates and malformed messages included), or JetStream would drop
  // a rebased replay within its duplicate window of the recording.
  const msgId = entry.msgId?.replace(/\.(\d+)(\.dup|\.bad)?$/, (_, n: string, suffix = "") => `.${Number(n) + shiftMs}${suffix}`);
  const at = entryTimeMs(entry);
  let data = entry.data;
  if (at !== undefined) {
    const record = data as Record<string, unknown>;
    const seq = typeof record.seq === "number" ? record.seq + shiftMs : undefined;
    data = { ...record, measuredAt: new Date(at + shiftMs).toISOString(), ...(seq !== undefined && { seq }) };
  }
  return { subject: entry.subject, ...(msgId !== undefined && { msgId }), data };
}

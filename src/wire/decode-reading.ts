import { parseReadingSubject } from "./names.js";
import { COMMUNITY_METER_ID, isValidId } from "../domain/ids.js";
import { MAX_READING_BYTES, parseCommunityReading, parseJson, parseMeterReading, parseTimestamp } from "../domain/reading.js";
import type { MeterState } from "../domain/totals.js";

/** A bus message turned into a meter update, or the reason it goes to the dead-letter subject. */
export type Decoded =
  | { readonly ok: true; readonly communityId: string; readonly meterId: string; readonly state: MeterState }
  | { readonly ok: false; readonly reason: string };

export const NOT_A_READING_SUBJECT = "subject is not ec.<communityId>.net or ec.<communityId>.meter.<meterId> (MQTT topic ec/<communityId>/net or ec/<communityId>/meter/<meterId>)";

/**
 * Decodes a message of a reading stream (EC_STREAM or a partition's). `streamSeq` orders community-level readings, which
 * carry no `seq` of their own: of two with the same measuredAt, the later one wins.
 */
export function decodeReading(subject: string, payload: string, streamSeq: number): Decoded {
  const where = parseReadingSubject(subject);
  if (!where) return { ok: false, reason: NOT_A_READING_SUBJECT };
  if (!isValidId(where.communityId)) return { ok: false, reason: "communityId in the subject must match [A-Za-z0-9_-]{1,64}" };
  // (A string of n characters is n to 3n bytes of UTF-8: most readings need no count at all.)
  if (payload.length * 3 > MAX_READING_BYTES) {
    const bytes = Buffer.byteLength(payload);
    if (bytes > MAX_READING_BYTES) return { ok: false, reason: `the message is ${bytes} bytes; a reading is at most ${MAX_READING_BYTES}` };
  }
  const json = parseJson(payload);
  if (!json.ok) return { ok: false, reason: json.error };

  if (where.level === "community") {
    const reading = parseCommunityReading(json.value);
    if (!reading.ok) return { ok: false, reason: reading.error };
    if (reading.value.communityId !== where.communityId) return { ok: false, reason: "communityId differs from the subject" };
    const { genW, conW, measuredAt, intervalMs, averaged } = reading.value;
    const state = { genW, conW, measuredAtMs: parseTimestamp(measuredAt)!, seq: streamSeq, ...(intervalMs !== undefined && { intervalMs }), ...(averaged !== undefined && { averaged }) };
    return { ok: true, communityId: where.communityId, meterId: COMMUNITY_METER_ID, state };
  }

  const reading = parseMeterReading(json.value);
  if (!reading.ok) return { ok: false, reason: reading.error };
  if (reading.value.communityId !== where.communityId) return { ok: false, reason: "communityId differs from the subject" };
  if (reading.value.meterId !== where.meterId) return { ok: false, reason: "meterId differs from the subject" };
  const { meterId, genW, conW, measuredAt, seq, intervalMs, averaged } = reading.value;
  const state = { genW, conW, measuredAtMs: parseTimestamp(measuredAt)!, seq, ...(intervalMs !== undefined && { intervalMs }), ...(averaged !== undefined && { averaged }) };
  return { ok: true, communityId: where.communityId, meterId, state };
}

import { gunzipSync } from "node:zlib";

/** A community's net power once per step, as `wear-emu --compare` replays it. */
export interface CommunityTrace {
  readonly startMs: number;
  readonly stepMs: number;
  /** genW − conW at startMs + i × stepMs. */
  readonly netW: Int32Array;
}

export class CommunityTraceError extends Error {}

/**
 * Parses the CSV written by scripts/make-day-trace.mjs (gzip or plain): `#` comment lines
 * (one says `start <ISO>, step <n> ms`), a `genW,conW` header, then one line per step.
 */
export function parseCommunityTrace(data: Uint8Array): CommunityTrace {
  const text = (data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : Buffer.from(data)).toString("utf8");
  const lines = text.split("\n");
  const header = lines.find((line) => line.startsWith("# start "));
  const match = header && /^# start (\S+), step (\d+) ms/.exec(header);
  const startMs = match ? Date.parse(match[1]!) : Number.NaN;
  if (!match || !Number.isFinite(startMs)) throw new CommunityTraceError("the trace lacks its `# start <ISO time>, step <n> ms` line");
  const rows = lines.filter((line) => line && !line.startsWith("#"));
  if (rows[0] !== "genW,conW") throw new CommunityTraceError("the trace's header must be genW,conW");
  const netW = new Int32Array(rows.length - 1);
  for (let i = 1; i < rows.length; i += 1) {
    const [gen, con] = rows[i]!.split(",").map(Number);
    if (!Number.isFinite(gen) || !Number.isFinite(con)) throw new CommunityTraceError(`line ${i + 1} of the data is not two numbers`);
    netW[i - 1] = gen! - con!;
  }
  return { startMs, stepMs: Number(match[2]), netW };
}

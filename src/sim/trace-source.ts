import { decodeReading } from "../wire/decode-reading.js";
import { entryTimeMs, shiftEntry, type TraceEntry } from "./trace.js";
import type { Emission, ReadingSource, Tick } from "./sources.js";

/**
 * A recorded trace, one tick per distinct data time (a malformed line goes with the line
 * before it). `shiftMs` moves it in data time (replay rebased to --start).
 */
export class TraceSource implements ReadingSource {
  private index = 0;

  constructor(
    private readonly entries: readonly TraceEntry[],
    private readonly shiftMs = 0,
  ) {}

  /** Data time of the first entry with one, to rebase a replay. */
  static firstTimeMs(entries: readonly TraceEntry[]): number | undefined {
    for (const entry of entries) {
      const at = entryTimeMs(entry);
      if (at !== undefined) return at;
    }
    return undefined;
  }

  next(): Tick | undefined {
    if (this.index >= this.entries.length) return undefined;
    const emissions: Emission[] = [];
    let atMs: number | undefined;
    while (this.index < this.entries.length) {
      const entry = shiftEntry(this.entries[this.index]!, this.shiftMs);
      const entryAt = entryTimeMs(entry);
      if (atMs !== undefined && entryAt !== undefined && entryAt !== atMs) break;
      atMs ??= entryAt;
      this.index += 1;
      const payload = typeof entry.data === "string" ? entry.data : JSON.stringify(entry.data);
      // The aggregator's own decoding says how it counts the message; the line number orders
      // community-level readings, as the stream sequence does for the aggregator.
      const decoded = decodeReading(entry.subject, payload, this.index);
      emissions.push({
        subject: entry.subject,
        payload,
        dedupId: entry.msgId,
        ...(decoded.ok && { counted: { communityId: decoded.communityId, meterId: decoded.meterId, state: decoded.state } }),
      });
    }
    return { atMs: atMs ?? 0, emissions };
  }
}

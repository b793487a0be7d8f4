import { type Aggregate, netWatts } from "../domain/aggregate.js";
import { type MeterState, type Totals, computeTotals, isNewer } from "../domain/totals.js";

export type { MeterState } from "../domain/totals.js";

/** Serialised per-meter state of a community, kept in KV so a restarted aggregator stays exact. */
export interface CommunitySnapshot {
  readonly version: number;
  /** meterId → [genW, conW, measuredAtMs, seq] */
  readonly meters: Record<string, readonly [number, number, number, number]>;
}

function sameTotals(a: Totals, b: Totals): boolean {
  return a.genW === b.genW && a.conW === b.conW && a.meters === b.meters && a.stale === b.stale && a.measuredAtMs === b.measuredAtMs;
}

/** Per-meter state of one community, with the version of its aggregate. Pure: no I/O. */
export class CommunityState {
  readonly communityId: string;
  private readonly meters = new Map<string, MeterState>();
  private version = 0;
  private lastTotals: Totals | undefined;

  constructor(communityId: string, snapshot?: CommunitySnapshot) {
    this.communityId = communityId;
    if (snapshot) {
      this.version = snapshot.version;
      for (const [meterId, [genW, conW, measuredAtMs, seq]] of Object.entries(snapshot.meters)) {
        this.meters.set(meterId, { genW, conW, measuredAtMs, seq });
      }
    }
  }

  /** Applies a reading; returns whether it changed the state (false for duplicates and older readings). */
  apply(meterId: string, reading: MeterState): boolean {
    if (!isNewer(reading, this.meters.get(meterId))) return false;
    this.meters.set(meterId, reading);
    return true;
  }

  /**
   * The aggregate after the readings applied so far, with a new version when the totals
   * differ from the last aggregate returned; undefined when nothing visible changed.
   */
  nextAggregate(staleAfterMs: number, now: Date): Aggregate | undefined {
    const totals = computeTotals(this.meters.values(), staleAfterMs);
    if (this.lastTotals && sameTotals(this.lastTotals, totals)) return undefined;
    this.lastTotals = totals;
    this.version += 1;
    return {
      communityId: this.communityId,
      genW: totals.genW,
      conW: totals.conW,
      netW: netWatts(totals.genW, totals.conW),
      meters: totals.meters,
      stale: totals.stale,
      measuredAt: new Date(totals.measuredAtMs).toISOString(),
      aggregatedAt: now.toISOString(),
      version: this.version,
    };
  }

  /** Makes the next call of nextAggregate emit, after an aggregate could not be stored. */
  forgetLastAggregate(): void {
    this.lastTotals = undefined;
  }

  snapshot(): CommunitySnapshot {
    const meters: Record<string, readonly [number, number, number, number]> = {};
    for (const [meterId, m] of this.meters) meters[meterId] = [m.genW, m.conW, m.measuredAtMs, m.seq];
    return { version: this.version, meters };
  }
}

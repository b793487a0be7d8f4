import { type MeterState, computeTotals, isNewer } from "../domain/totals.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface TruthTotals {
  readonly genW: number;
  readonly conW: number;
  readonly meters: number;
  readonly stale: number;
}

/**
 * What the aggregator must end up with: per meter the winning acknowledged reading,
 * per community the sums over its non-stale meters (the same rules as the aggregator).
 */
export class GroundTruth {
  private readonly communities = new Map<string, Map<string, Mutable<MeterState>>>();

  record(communityId: string, meterId: string, reading: MeterState): void {
    let meters = this.communities.get(communityId);
    if (!meters) {
      meters = new Map();
      this.communities.set(communityId, meters);
    }
    const current = meters.get(meterId);
    if (!isNewer(reading, current)) return;
    // A copy of its own, updated in place: keeping each reading's object until the meter's
    // next one made 100,000 meters' readings outlive the young generation (GC load).
    if (!current) meters.set(meterId, { genW: reading.genW, conW: reading.conW, measuredAtMs: reading.measuredAtMs, seq: reading.seq });
    else {
      current.genW = reading.genW;
      current.conW = reading.conW;
      current.measuredAtMs = reading.measuredAtMs;
      current.seq = reading.seq;
    }
  }

  totals(staleAfterMs: number): Record<string, TruthTotals> {
    const result: Record<string, TruthTotals> = {};
    for (const id of [...this.communities.keys()].sort()) {
      const { genW, conW, meters, stale } = computeTotals(this.communities.get(id)!.values(), staleAfterMs);
      result[id] = { genW, conW, meters, stale };
    }
    return result;
  }
}

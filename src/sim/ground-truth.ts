import { type MeterState, computeTotals, isNewer } from "../domain/totals.js";

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
  private readonly communities = new Map<string, Map<string, MeterState>>();

  record(communityId: string, meterId: string, reading: MeterState): void {
    let meters = this.communities.get(communityId);
    if (!meters) {
      meters = new Map();
      this.communities.set(communityId, meters);
    }
    if (isNewer(reading, meters.get(meterId))) meters.set(meterId, reading);
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

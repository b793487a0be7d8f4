import type { MeterState } from "../domain/totals.js";
import { CommunityMeters } from "../energy/community-meters.js";
import { SETTLEMENT_INTERVAL_MS } from "../energy/buckets.js";
import { type Energy, WMS_PER_WH, addMinutes, minuteSlices } from "../energy/meter-energy.js";

export interface TruthTotals {
  readonly genW: number;
  readonly conW: number;
  readonly meters: number;
  readonly stale: number;
}

/** A community's energy by the rule (energy/validity.ts), as far as it is final. */
export interface TruthEnergy {
  readonly genWh: number;
  readonly conWh: number;
  readonly importWh: number;
  readonly exportWh: number;
  /** Data time before which it is final (null: nothing yet). */
  readonly finalThrough: string | null;
  /** Readings that came too late to be integrated. */
  readonly late: number;
}

interface Community {
  readonly meters: CommunityMeters;
  readonly minutes: Map<number, Energy>;
  /** Per meter, its final energy per quarter hour start (W·ms): what the archive's meter_energy_15m must equal. */
  readonly meterQuarters: Map<string, Map<number, Energy>>;
  late: number;
}

const wh = (wms: number): number => Math.round(wms / WMS_PER_WH);

/**
 * What the aggregator must end up with, counted by the same rule (energy/community-meters.ts)
 * from every acknowledged reading in the order it was acknowledged: per community the sums over
 * its meters whose newest reading still holds, and its energy per minute as far as it is final.
 */
export class GroundTruth {
  private readonly communities = new Map<string, Community>();

  constructor(
    /** The tolerance's floor: the aggregator's `--stale-after`. */
    private readonly floorMs: number,
  ) {}

  private community(communityId: string): Community {
    let community = this.communities.get(communityId);
    if (!community) {
      const minutes = new Map<number, Energy>();
      const meterQuarters = new Map<string, Map<number, Energy>>();
      const meters = new CommunityMeters(this.floorMs, (meterId, fromMs, toMs, power) => {
        const slices = minuteSlices(fromMs, toMs, power);
        addMinutes(minutes, slices);
        let quarters = meterQuarters.get(meterId);
        if (!quarters) meterQuarters.set(meterId, (quarters = new Map()));
        addMinutes(quarters, slices.map((slice) => ({ ...slice, minuteStartMs: slice.minuteStartMs - (slice.minuteStartMs % SETTLEMENT_INTERVAL_MS) })));
      });
      community = { meters, minutes, meterQuarters, late: 0 };
      this.communities.set(communityId, community);
    }
    return community;
  }

  record(communityId: string, meterId: string, reading: MeterState): void {
    const community = this.community(communityId);
    if (community.meters.offer(meterId, reading) === "late") community.late += 1;
  }

  totals(): Record<string, TruthTotals> {
    const result: Record<string, TruthTotals> = {};
    for (const id of [...this.communities.keys()].sort()) {
      const { genW, conW, meters, stale } = this.communities.get(id)!.meters.totals();
      result[id] = { genW, conW, meters, stale };
    }
    return result;
  }

  /** A community's final energy per minute start (W·ms), as the aggregator stores it. */
  minutes(communityId: string): ReadonlyMap<number, Energy> {
    return this.communities.get(communityId)?.minutes ?? new Map();
  }

  /** A community's final energy per meter and quarter hour start (W·ms, UTC quarter hours). */
  meterQuarters(communityId: string): ReadonlyMap<string, ReadonlyMap<number, Energy>> {
    return this.communities.get(communityId)?.meterQuarters ?? new Map();
  }

  /** The data time before which a community's energy is final. */
  finalThroughMs(communityId: string): number {
    return this.communities.get(communityId)?.meters.finalThroughMs() ?? Number.NEGATIVE_INFINITY;
  }

  energy(): Record<string, TruthEnergy> {
    const result: Record<string, TruthEnergy> = {};
    for (const id of [...this.communities.keys()].sort()) {
      const { minutes, late } = this.communities.get(id)!;
      const sum = (pick: (e: Energy) => number): number => wh([...minutes.values()].reduce((total, e) => total + pick(e), 0));
      const final = this.finalThroughMs(id);
      result[id] = {
        genWh: sum((e) => e.genWms),
        conWh: sum((e) => e.conWms),
        importWh: sum((e) => e.importWms),
        exportWh: sum((e) => e.exportWms),
        finalThrough: Number.isFinite(final) ? new Date(final).toISOString() : null,
        late,
      };
    }
    return result;
  }
}

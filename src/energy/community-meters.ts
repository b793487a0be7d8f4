import { type MeterState, type Totals, computeTotals, isNewer } from "../domain/totals.js";
import { DeadlineHeap } from "./deadline-heap.js";
import type { PowerReading } from "./meter-energy.js";
import { MeterIntegrator, type Offered } from "./meter-integrator.js";

/** Receives a meter's final energy: `power` held from `fromMs` to `toMs`. */
export type MeterEnergySink = (meterId: string, fromMs: number, toMs: number, power: PowerReading) => void;

/**
 * The meters of one community, each integrated by the rule of validity.ts, with the community's
 * data time — its newest reading — which makes meters stale and energy final. The aggregator
 * and the simulator's ground truth both count with it. Pure: no I/O.
 */
export class CommunityMeters {
  private readonly meters = new Map<string, MeterIntegrator>();
  /** The meters' integrators, for the totals (a meter once added stays). */
  private readonly list: MeterIntegrator[] = [];
  private readonly due = new DeadlineHeap();
  private watermarkMs = Number.NEGATIVE_INFINITY;

  constructor(
    /** The tolerance's floor: `--stale-after`. */
    readonly floorMs: number,
    private readonly sink: MeterEnergySink,
  ) {}

  get size(): number {
    return this.meters.size;
  }

  /** The meters by id (for snapshots). */
  get all(): ReadonlyMap<string, MeterIntegrator> {
    return this.meters;
  }

  /** Takes a meter as it was stored, unless one with a newer reading is known; returns whether it was taken. */
  restore(meterId: string, meter: MeterIntegrator): boolean {
    const newest = meter.newest();
    const known = this.meters.get(meterId);
    const knownNewest = known?.newest();
    // Of two stored states with the same newest reading (a shard and a delta written after the meter settled), the one further on wins.
    const tie = !!knownNewest && !!newest && !isNewer(newest, knownNewest) && !isNewer(knownNewest, newest);
    if (!newest || !(isNewer(newest, knownNewest) || (tie && meter.progressMs() > known!.progressMs()))) return false;
    this.meters.set(meterId, meter);
    if (known) this.list[this.list.indexOf(known)] = meter;
    else this.list.push(meter);
    this.watermarkMs = Math.max(this.watermarkMs, newest.measuredAtMs);
    this.due.push(meter.deadlineMs(), meterId);
    return true;
  }

  /**
   * Offers a meter's reading, and hands the sink every meter's energy that became final by it.
   * A reading delivered again (`redelivered`) that is older than what its meter integrated is one
   * it already has: a duplicate, not late.
   */
  offer(meterId: string, reading: MeterState, redelivered = false): Offered {
    let meter = this.meters.get(meterId);
    if (!meter) {
      this.meters.set(meterId, (meter = new MeterIntegrator(this.floorMs)));
      this.list.push(meter);
    }
    const offered = meter.offer(reading);
    if (offered === "late" && redelivered) return "duplicate";
    if (offered !== "pending") return offered;
    this.watermarkMs = Math.max(this.watermarkMs, reading.measuredAtMs);
    this.due.push(meter.deadlineMs(), meterId);
    this.settleDue();
    return offered;
  }

  /** Integrates the energy of every meter whose deadline the community's data time has passed. */
  private settleDue(): void {
    for (let entry = this.due.popDue(this.watermarkMs); entry; entry = this.due.popDue(this.watermarkMs)) {
      const { meterId } = entry;
      const meter = this.meters.get(meterId)!;
      // An entry pushed before the meter's deadline moved on: its current one is in the heap too.
      if (meter.deadlineMs() !== entry.deadlineMs) continue;
      meter.advance(this.watermarkMs, (fromMs, toMs, power) => this.sink(meterId, fromMs, toMs, power));
      this.due.push(meter.deadlineMs(), meterId);
    }
  }

  /** The live totals: the meters whose newest reading still holds; the others are stale. */
  totals(): Totals {
    return computeTotals(this.list);
  }

  /** The data time before which the community's energy is final: no meter can still add to it, save a late reading. */
  finalThroughMs(): number {
    let final = this.watermarkMs;
    for (const meter of this.meters.values()) final = Math.min(final, meter.finalThroughMs());
    return final;
  }
}

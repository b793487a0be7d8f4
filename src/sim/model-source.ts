import { decodeReading } from "../wire/decode-reading.js";
import { COMMUNITY_METER_ID } from "../domain/ids.js";
import type { CadenceFields } from "../domain/reading.js";
import { type Phase, averagingStepMs, cadenceKey, maxJitterMs, phaseOffsetMs } from "./cadence.js";
import { CommunityModel } from "./community-model.js";
import { type FaultInjector, malformedPayload } from "./faults.js";
import type { LoadProfiles } from "./meter-model.js";
import type { CommunitySpec, MeterSpec } from "./scenario.js";
import { ReadingSchedule, type ScheduledUnit } from "./schedule.js";
import { type MeterWire, ModelReading, NO_CADENCE, meterWire } from "./model-reading.js";
import type { CommunityEnergy, Emission, ReadingLevel, ReadingSource, Tick } from "./sources.js";

export interface ModelSourceOptions {
  readonly communities: readonly CommunitySpec[];
  readonly profiles: LoadProfiles;
  readonly seed: number;
  readonly level: ReadingLevel;
  /** Data time between two readings of a meter whose scenario group sets no `intervalMs`, and the models' longest step. */
  readonly intervalMs: number;
  /** `spread`: each meter at its own seeded offset within its interval; `aligned` (default): all in the same instant. */
  readonly phase?: Phase;
  /** Each reading's data time moved by up to ±this fraction of its interval, seeded (below 0.5; averaged meters are not moved). Default 0. */
  readonly jitter?: number;
  /** Data time of the first reading. */
  readonly startMs: number;
  /** No reading at or after this data time; endless when undefined. */
  readonly endMs?: number;
  readonly faults: FaultInjector;
  /**
   * A moment with more readings than this comes in several ticks, split between communities:
   * readings held until their acks outlive the young generation, and with 100,000 meters in
   * memory at once GC was the largest CPU cost at 50k readings/s (issue 7). Default 1,000.
   */
  readonly maxTickEmissions?: number;
}

/** What reports on the schedule: one meter, or (community level) a community's sum. */
interface Unit {
  readonly community: number;
  /** The meter's index in its community; -1 for the community's sum. */
  readonly meter: number;
  readonly wire: MeterWire;
  readonly intervalMs: number;
  /** The model step: the interval, or an averaged meter's sampling step (cadence.ts). */
  readonly stepMs: number;
  /** Model steps per reading: 1, or more for an averaged meter. */
  readonly samples: number;
  readonly averaged: boolean;
}

/**
 * Readings from the community models, each meter at its interval (its group's, else
 * `intervalMs`) and phase, with faults applied. A tick carries the readings due at one data
 * time (schedule.ts). `seq` is the data time in ms, so it keeps increasing across restarts of a
 * simulator. An averaged meter's reading is the mean of its model's power sampled at its model
 * step over the interval before it, exact to the whole watt sent.
 */
export class ModelSource implements ReadingSource {
  private readonly models: CommunityModel[];
  private readonly units: Unit[] = [];
  private readonly schedule: ReadingSchedule;
  /** Per community, in the order of `options.communities`. */
  private readonly energies: CommunityEnergy[];
  /** Per community: its data time and net power (gen − con) by its units' newest readings, and how many have reported. */
  private readonly communityAtMs: Float64Array;
  private readonly communityNetW: Float64Array;
  private readonly reported: Int32Array;
  private readonly unitsOf: Int32Array;
  /** Per unit: the net power of its newest reading (NaN: none yet); an averaged meter's sums of sampled power. */
  private readonly unitNetW: Float64Array;
  private readonly sumGenW: Float64Array;
  private readonly sumConW: Float64Array;
  /** Readings held back by the reorder fault, sent after the meter's next one. */
  private readonly held = new Map<string, Emission>();
  private readonly faultsActive: boolean;
  /** The schedule is at an event not yet taken (a tick ended before it). */
  private pending = false;
  private exhausted = false;
  private finished = false;
  private lastAtMs = Number.NaN;
  /** The last measuredAt formatted (readings of a moment share it), and its whole second's prefix. */
  private isoMs = Number.NaN;
  private iso = "";
  private isoSecondMs = Number.NaN;
  private isoPrefix = "";

  constructor(private readonly options: ModelSourceOptions) {
    const { communities, seed, level, intervalMs, startMs } = options;
    const phase = options.phase ?? "aligned";
    const jitter = options.jitter ?? 0;
    const scheduled: ScheduledUnit[] = [];
    this.unitsOf = new Int32Array(communities.length);
    communities.forEach((spec, community) => {
      const cadences: Array<{ meter: number; meterId: string; spec: MeterSpec | undefined }> =
        level === "community" ? [{ meter: -1, meterId: COMMUNITY_METER_ID, spec: undefined }] : spec.meters.map((meter, index) => ({ meter: index, meterId: meter.meterId, spec: meter }));
      // Per interval: how many of the community's meters report at it, and how many came before (cadence.ts phaseOffsetMs).
      const counts = new Map<number, number>();
      for (const { spec: meterSpec } of cadences) counts.set(meterSpec?.intervalMs ?? intervalMs, (counts.get(meterSpec?.intervalMs ?? intervalMs) ?? 0) + 1);
      const ranks = new Map<number, number>();
      const communityKey = cadenceKey(seed, spec.communityId);
      for (const { meter, meterId, spec: meterSpec } of cadences) {
        const unitIntervalMs = meterSpec?.intervalMs ?? intervalMs;
        const rank = ranks.get(unitIntervalMs) ?? 0;
        ranks.set(unitIntervalMs, rank + 1);
        const averaged = meterSpec?.averaged === true;
        const stepMs = averaged ? averagingStepMs(unitIntervalMs) : unitIntervalMs;
        const cadence: CadenceFields = meterSpec?.intervalMs === undefined ? NO_CADENCE : { intervalMs: meterSpec.intervalMs, ...(averaged && { averaged: true }) };
        const key = cadenceKey(seed, `${spec.communityId}/${meterId}`);
        this.units.push({ community, meter, wire: meterWire(spec.communityId, meterId, cadence), intervalMs: unitIntervalMs, stepMs, samples: unitIntervalMs / stepMs, averaged });
        // An averaged meter's first reading comes an interval after its first sample.
        scheduled.push({ periodMs: stepMs, firstMs: phase === "spread" ? phaseOffsetMs(key, unitIntervalMs, communityKey, rank, counts.get(unitIntervalMs)) : 0, jitterMs: averaged ? 0 : maxJitterMs(jitter, unitIntervalMs), key });
        this.unitsOf[community] = this.unitsOf[community]! + 1;
      }
    });
    // The surroundings change at the finest model step of a community, at most every `intervalMs`.
    this.models = communities.map((spec, community) => {
      const gridMs = this.units.reduce((finest, unit) => (unit.community === community ? Math.min(finest, unit.stepMs) : finest), intervalMs);
      return new CommunityModel(spec, options.profiles, seed, gridMs / 1000, { startMs, stepMs: gridMs });
    });
    this.schedule = new ReadingSchedule(scheduled, startMs, options.endMs);
    this.energies = communities.map(() => ({ genKwh: 0, conKwh: 0, peakSurplusW: 0, peakSurplusAt: undefined, peakDeficitW: 0, peakDeficitAt: undefined }));
    this.communityAtMs = new Float64Array(communities.length).fill(Number.NaN);
    this.communityNetW = new Float64Array(communities.length);
    this.reported = new Int32Array(communities.length);
    this.unitNetW = new Float64Array(this.units.length).fill(Number.NaN);
    this.sumGenW = new Float64Array(this.units.length);
    this.sumConW = new Float64Array(this.units.length);
    this.faultsActive = options.faults.active;
  }

  next(): Tick | undefined {
    if (this.finished) return undefined;
    const limit = this.options.maxTickEmissions ?? 1_000;
    const emissions: Emission[] = [];
    const schedule = this.schedule;
    let atMs = Number.NaN;
    let community = -1;
    while (!this.exhausted) {
      if (!this.pending && !schedule.next()) {
        this.exhausted = true;
        break;
      }
      this.pending = true;
      const unit = this.units[schedule.unit]!;
      const reading = !unit.averaged || (schedule.cycle > 0 && schedule.cycle % unit.samples === 0);
      if (!Number.isNaN(atMs)) {
        if (schedule.atMs !== atMs) break;
        // A large moment comes in parts, split between communities (see maxTickEmissions).
        if (reading && emissions.length >= limit && unit.community !== community) return { atMs, emissions, continues: true };
      }
      this.pending = false;
      this.take(unit, schedule.unit, schedule.atMs, schedule.cycle, emissions);
      if (reading) [atMs, community] = [schedule.atMs, unit.community];
    }
    if (Number.isNaN(atMs)) {
      this.finished = true;
      // Whatever the reorder fault still holds goes out last.
      const held = [...this.held.values()];
      this.held.clear();
      return held.length ? { atMs: this.lastAtMs, emissions: held } : undefined;
    }
    this.lastAtMs = atMs;
    return { atMs, emissions };
  }

  /** Energy per community so far. */
  energyByCommunity(): Record<string, CommunityEnergy> {
    this.energies.forEach((_, community) => this.checkPeaks(community));
    return Object.fromEntries(this.options.communities.map((spec, community) => [spec.communityId, this.energies[community]!]));
  }

  /** One event of a unit: a reading (an averaged meter's at the end of its interval), and an averaged meter's sample. */
  private take(unit: Unit, index: number, atMs: number, cycle: number, emissions: Emission[]): void {
    const model = this.models[unit.community]!;
    const energy = this.energies[unit.community]!;
    if (unit.meter < 0) {
      // The community's sum: every meter at this time, its energy counted meter by meter.
      const hours = unit.intervalMs / 3_600_000;
      let genW = 0;
      let conW = 0;
      for (let m = 0; m < model.spec.meters.length; m += 1) {
        const power = model.meterPowerAt(m, atMs, unit.stepMs);
        energy.genKwh += (power.genW * hours) / 1000;
        energy.conKwh += (power.conW * hours) / 1000;
        genW += power.genW;
        conW += power.conW;
      }
      this.observe(unit, index, genW - conW, atMs);
      this.emit(emissions, unit, genW, conW, atMs);
      return;
    }
    if (!unit.averaged) {
      const power = model.meterPowerAt(unit.meter, atMs, unit.stepMs);
      const hours = unit.intervalMs / 3_600_000;
      energy.genKwh += (power.genW * hours) / 1000;
      energy.conKwh += (power.conW * hours) / 1000;
      this.observe(unit, index, power.genW - power.conW, atMs);
      this.emit(emissions, unit, power.genW, power.conW, atMs);
      return;
    }
    if (cycle > 0 && cycle % unit.samples === 0) {
      // The mean over the interval that ends now: its samples, each standing for one model step.
      const genW = Math.round(this.sumGenW[index]! / unit.samples);
      const conW = Math.round(this.sumConW[index]! / unit.samples);
      const stepHours = unit.stepMs / 3_600_000;
      energy.genKwh += (this.sumGenW[index]! * stepHours) / 1000;
      energy.conKwh += (this.sumConW[index]! * stepHours) / 1000;
      this.sumGenW[index] = 0;
      this.sumConW[index] = 0;
      this.observe(unit, index, genW - conW, atMs);
      this.emit(emissions, unit, genW, conW, atMs);
    }
    const power = model.meterPowerAt(unit.meter, atMs, unit.stepMs);
    this.sumGenW[index] = this.sumGenW[index]! + power.genW;
    this.sumConW[index] = this.sumConW[index]! + power.conW;
  }

  /** A unit's newest net power; the community's peaks are taken once its data time moves on and every unit has reported. */
  private observe(unit: Unit, index: number, netW: number, atMs: number): void {
    const community = unit.community;
    if (atMs !== this.communityAtMs[community]) {
      this.checkPeaks(community);
      this.communityAtMs[community] = atMs;
    }
    const before = this.unitNetW[index]!;
    if (Number.isNaN(before)) this.reported[community] = this.reported[community]! + 1;
    this.communityNetW[community] = this.communityNetW[community]! + netW - (Number.isNaN(before) ? 0 : before);
    this.unitNetW[index] = netW;
  }

  private checkPeaks(community: number): void {
    if (this.reported[community] !== this.unitsOf[community]) return;
    const energy = this.energies[community]!;
    const netW = this.communityNetW[community]!;
    const atMs = this.communityAtMs[community]!;
    if (netW > energy.peakSurplusW) [energy.peakSurplusW, energy.peakSurplusAt] = [netW, new Date(atMs).toISOString()];
    if (-netW > energy.peakDeficitW) [energy.peakDeficitW, energy.peakDeficitAt] = [-netW, new Date(atMs).toISOString()];
  }

  /** `ms` as toISOString gives it; readings spread over a second share the formatting of the second. */
  private measuredAt(ms: number): string {
    if (ms !== this.isoMs) {
      const millis = ((ms % 1000) + 1000) % 1000;
      const secondMs = ms - millis;
      if (secondMs !== this.isoSecondMs) {
        this.isoPrefix = new Date(secondMs).toISOString().slice(0, -4);
        this.isoSecondMs = secondMs;
      }
      this.iso = `${this.isoPrefix}${millis < 10 ? "00" : millis < 100 ? "0" : ""}${millis}Z`;
      this.isoMs = ms;
    }
    return this.iso;
  }

  private emit(emissions: Emission[], unit: Unit, genW: number, conW: number, atMs: number): void {
    const wire = unit.wire;
    if (!this.faultsActive) {
      // No fault can strike (and none draws a random number): one reading as it is.
      emissions.push(this.reading(wire, genW, conW, atMs, atMs, false));
      return;
    }
    const { communityId, meterId, subject, key } = wire;
    const held = this.held.get(key);
    this.held.delete(key);
    // The meter's own interval: the offline fault's odds are per simulated minute.
    for (const decision of this.options.faults.decide({ communityId, meterId, measuredAtMs: atMs, seq: atMs }, unit.intervalMs)) {
      if (decision.kind === "malformed") {
        const payload = malformedPayload(decision.variant, { meterId, communityId, measuredAt: this.measuredAt(atMs), seq: atMs });
        // Counted exactly as the aggregator's decoder sees it (nothing, if it is truly malformed).
        const decoded = decodeReading(subject, payload, atMs);
        emissions.push({
          subject,
          payload,
          dedupId: `${wire.dedupHead}${atMs}.bad`,
          ...(decoded.ok && { counted: { communityId: decoded.communityId, meterId: decoded.meterId, state: decoded.state } }),
        });
        continue;
      }
      const emission = this.reading(wire, genW, conW, atMs, decision.measuredAtMs, decision.copy === true);
      if (decision.hold) this.held.set(key, emission);
      else emissions.push(emission);
    }
    if (held) emissions.push(held);
  }

  private reading(wire: MeterWire, genW: number, conW: number, atMs: number, measuredAtMs: number, copy: boolean): Emission {
    return new ModelReading(wire, genW, conW, measuredAtMs, this.measuredAt(measuredAtMs), atMs, copy);
  }
}

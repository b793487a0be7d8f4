import { decodeReading } from "../wire/decode-reading.js";
import { communityReadingSubject, dedupIdHead, meterReadingSubject } from "../wire/names.js";
import { COMMUNITY_METER_ID } from "../domain/ids.js";
import type { MeterState } from "../domain/totals.js";
import { CommunityModel } from "./community-model.js";
import { type FaultInjector, malformedPayload } from "./faults.js";
import type { LoadProfiles, MeterPower } from "./meter-model.js";
import type { CommunitySpec } from "./scenario.js";
import { entryTimeMs, shiftEntry, type TraceEntry } from "./trace.js";

export const READING_LEVELS = ["meter", "community"] as const;
export type ReadingLevel = (typeof READING_LEVELS)[number];

/** One message to publish. */
export interface Emission {
  readonly subject: string;
  readonly payload: string;
  readonly dedupId: string | undefined;
  /** The reading as a correct aggregator counts it; undefined for a malformed message. */
  readonly counted?: { readonly communityId: string; readonly meterId: string; readonly state: MeterState };
}

/** The messages of one moment of data time, or of part of it. */
export interface Tick {
  readonly atMs: number;
  readonly emissions: readonly Emission[];
  /** More messages of this moment follow in the next tick (a large moment comes in parts). */
  readonly continues?: boolean;
}

/** Where the simulator's messages come from: the models, or a recorded trace. */
export interface ReadingSource {
  next(): Tick | undefined;
}

/** Energy of a community over the run, from the physical power (before faults). */
export interface CommunityEnergy {
  genKwh: number;
  conKwh: number;
  peakSurplusW: number;
  peakSurplusAt: string | undefined;
  peakDeficitW: number;
  peakDeficitAt: string | undefined;
}

export interface ModelSourceOptions {
  readonly communities: readonly CommunitySpec[];
  readonly profiles: LoadProfiles;
  readonly seed: number;
  readonly level: ReadingLevel;
  readonly intervalMs: number;
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

/** A meter's names on the wire, built once instead of once per reading. */
interface MeterWire {
  readonly communityId: string;
  readonly meterId: string;
  readonly subject: string;
  /** Key of the reorder fault's held reading. */
  readonly key: string;
  /** `<communityId>.<meterId>.`: the dedup id without its seq. */
  readonly dedupHead: string;
  /** The payload's JSON up to the value of genW. */
  readonly payloadHead: string;
}

function meterWire(communityId: string, meterId: string): MeterWire {
  const community = meterId === COMMUNITY_METER_ID;
  // Same key order as the reading objects below, so the bytes equal JSON.stringify's.
  const payloadHead = community
    ? `{"communityId":${JSON.stringify(communityId)},"genW":`
    : `{"meterId":${JSON.stringify(meterId)},"communityId":${JSON.stringify(communityId)},"genW":`;
  return {
    communityId,
    meterId,
    subject: community ? communityReadingSubject(communityId) : meterReadingSubject(communityId, meterId),
    key: `${communityId}/${meterId}`,
    dedupHead: dedupIdHead(communityId, meterId),
    payloadHead,
  };
}

/**
 * Readings from the community models at every interval of data time, with faults applied.
 * `seq` is the data time in ms, so it keeps increasing across restarts of a simulator.
 */
export class ModelSource implements ReadingSource {
  private readonly models: CommunityModel[];
  /** Per community, the wire names of its meters in model order (one `_community` at community level). */
  private readonly wires: MeterWire[][];
  private readonly energy = new Map<string, CommunityEnergy>();
  /** Readings held back by the reorder fault, sent after the meter's next one. */
  private readonly held = new Map<string, Emission>();
  private readonly faultsActive: boolean;
  private tickIndex = 0;
  private finished = false;
  /** The moment being emitted, and the next of its communities (0: a new moment starts). */
  private moment = new Date(0);
  private community = 0;
  /** The last measuredAt formatted: every meter of a tick shares it unless skewed. */
  private isoMs = Number.NaN;
  private iso = "";

  constructor(private readonly options: ModelSourceOptions) {
    this.models = options.communities.map((spec) => new CommunityModel(spec, options.profiles, options.seed, options.intervalMs / 1000));
    this.wires = options.communities.map((spec) =>
      options.level === "community" ? [meterWire(spec.communityId, COMMUNITY_METER_ID)] : spec.meters.map((meter) => meterWire(spec.communityId, meter.meterId)),
    );
    this.faultsActive = options.faults.active;
    for (const spec of options.communities) {
      this.energy.set(spec.communityId, { genKwh: 0, conKwh: 0, peakSurplusW: 0, peakSurplusAt: undefined, peakDeficitW: 0, peakDeficitAt: undefined });
    }
  }

  next(): Tick | undefined {
    if (this.finished) return undefined;
    const { intervalMs, startMs, endMs } = this.options;
    if (this.community === 0) {
      const atMs = startMs + this.tickIndex * intervalMs;
      if (endMs !== undefined && atMs >= endMs) {
        this.finished = true;
        // Whatever the reorder fault still holds goes out last.
        const held = [...this.held.values()];
        this.held.clear();
        return held.length ? { atMs: atMs - intervalMs, emissions: held } : undefined;
      }
      this.tickIndex += 1;
      this.moment = new Date(atMs);
    }
    const atMs = this.moment.getTime();
    const limit = this.options.maxTickEmissions ?? 1_000;
    const emissions: Emission[] = [];
    while (this.community < this.models.length) {
      const model = this.models[this.community]!;
      const wires = this.wires[this.community]!;
      this.community += 1;
      const powers = model.powerAt(this.moment);
      this.account(model.spec.communityId, powers, atMs);
      if (this.options.level === "community") {
        let genW = 0;
        let conW = 0;
        for (const power of powers) genW += power.genW;
        for (const power of powers) conW += power.conW;
        this.emit(emissions, wires[0]!, genW, conW, atMs);
      } else {
        for (let m = 0; m < powers.length; m += 1) this.emit(emissions, wires[m]!, powers[m]!.genW, powers[m]!.conW, atMs);
      }
      if (emissions.length >= limit && this.community < this.models.length) return { atMs, emissions, continues: true };
    }
    this.community = 0;
    return { atMs, emissions };
  }

  /** Energy per community so far. */
  energyByCommunity(): Record<string, CommunityEnergy> {
    return Object.fromEntries(this.energy);
  }

  private account(communityId: string, powers: readonly MeterPower[], atMs: number): void {
    const energy = this.energy.get(communityId)!;
    const hours = this.options.intervalMs / 3_600_000;
    let netW = 0;
    for (const power of powers) {
      energy.genKwh += (power.genW * hours) / 1000;
      energy.conKwh += (power.conW * hours) / 1000;
      netW += power.genW - power.conW;
    }
    if (netW > energy.peakSurplusW) [energy.peakSurplusW, energy.peakSurplusAt] = [netW, new Date(atMs).toISOString()];
    if (-netW > energy.peakDeficitW) [energy.peakDeficitW, energy.peakDeficitAt] = [-netW, new Date(atMs).toISOString()];
  }

  private measuredAt(ms: number): string {
    if (ms !== this.isoMs) {
      this.iso = new Date(ms).toISOString();
      this.isoMs = ms;
    }
    return this.iso;
  }

  private emit(emissions: Emission[], wire: MeterWire, genW: number, conW: number, atMs: number): void {
    if (!this.faultsActive) {
      // No fault can strike (and none draws a random number): one reading as it is.
      emissions.push(this.reading(wire, genW, conW, atMs, atMs, false));
      return;
    }
    const { communityId, meterId, subject, key } = wire;
    const held = this.held.get(key);
    this.held.delete(key);
    for (const decision of this.options.faults.decide({ communityId, meterId, measuredAtMs: atMs, seq: atMs }, this.options.intervalMs)) {
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

/**
 * A reading of the models that writes its payload and dedup id when asked, that is when the
 * publisher sends it: made up front, the strings of every reading awaiting its ack outlived
 * the young generation, and GC was the largest CPU cost at 50k readings/s (issue 7).
 */
class ModelReading implements Emission {
  constructor(
    private readonly wire: MeterWire,
    private readonly genW: number,
    private readonly conW: number,
    private readonly measuredAtMs: number,
    /** `measuredAtMs` formatted, shared by the readings of a moment. */
    private readonly measuredAt: string,
    private readonly seq: number,
    /** The duplicate fault's second copy. */
    private readonly copy: boolean,
  ) {}

  get subject(): string {
    return this.wire.subject;
  }

  /**
   * Byte for byte what JSON.stringify gives for {meterId, communityId, genW, conW, measuredAt, seq}
   * (without meterId and seq at community level), concatenated: JSON.stringify per reading was a
   * large part of the simulator's CPU at 50k/s.
   */
  get payload(): string {
    const { wire, genW, conW, measuredAt } = this;
    const community = wire.meterId === COMMUNITY_METER_ID;
    if (!Number.isFinite(genW) || !Number.isFinite(conW)) {
      const { communityId, meterId } = wire;
      return JSON.stringify(community ? { communityId, genW, conW, measuredAt } : { meterId, communityId, genW, conW, measuredAt, seq: this.seq });
    }
    // String(-0) is "0", as in JSON.
    return `${wire.payloadHead}${genW},"conW":${conW},"measuredAt":"${measuredAt}"${community ? "" : `,"seq":${this.seq}`}}`;
  }

  get dedupId(): string {
    return this.copy ? `${this.wire.dedupHead}${this.seq}.dup` : `${this.wire.dedupHead}${this.seq}`;
  }

  get counted(): NonNullable<Emission["counted"]> {
    const { communityId, meterId } = this.wire;
    return { communityId, meterId, state: { genW: this.genW, conW: this.conW, measuredAtMs: this.measuredAtMs, seq: this.seq } };
  }
}

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

import { decodeReading } from "../aggregator/decode.js";
import { communityReadingSubject, dedupId, meterReadingSubject } from "../bus/names.js";
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

/** The messages of one moment of data time. */
export interface Tick {
  readonly atMs: number;
  readonly emissions: readonly Emission[];
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
}

/**
 * Readings from the community models at every interval of data time, with faults applied.
 * `seq` is the data time in ms, so it keeps increasing across restarts of a simulator.
 */
export class ModelSource implements ReadingSource {
  private readonly models: CommunityModel[];
  private readonly energy = new Map<string, CommunityEnergy>();
  /** Readings held back by the reorder fault, sent after the meter's next one. */
  private readonly held = new Map<string, Emission>();
  private tickIndex = 0;
  private finished = false;

  constructor(private readonly options: ModelSourceOptions) {
    this.models = options.communities.map((spec) => new CommunityModel(spec, options.profiles, options.seed, options.intervalMs / 1000));
    for (const spec of options.communities) {
      this.energy.set(spec.communityId, { genKwh: 0, conKwh: 0, peakSurplusW: 0, peakSurplusAt: undefined, peakDeficitW: 0, peakDeficitAt: undefined });
    }
  }

  next(): Tick | undefined {
    if (this.finished) return undefined;
    const { intervalMs, startMs, endMs } = this.options;
    const atMs = startMs + this.tickIndex * intervalMs;
    if (endMs !== undefined && atMs >= endMs) {
      this.finished = true;
      // Whatever the reorder fault still holds goes out last.
      const held = [...this.held.values()];
      this.held.clear();
      return held.length ? { atMs: atMs - intervalMs, emissions: held } : undefined;
    }
    this.tickIndex += 1;
    const date = new Date(atMs);
    const emissions: Emission[] = [];
    for (const model of this.models) {
      const communityId = model.spec.communityId;
      const powers = model.powerAt(date);
      this.account(communityId, powers, atMs);
      if (this.options.level === "community") {
        const genW = powers.reduce((sum, p) => sum + p.genW, 0);
        const conW = powers.reduce((sum, p) => sum + p.conW, 0);
        this.emit(emissions, { meterId: COMMUNITY_METER_ID, genW, conW }, communityId, atMs);
      } else {
        for (const power of powers) this.emit(emissions, power, communityId, atMs);
      }
    }
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
    const at = new Date(atMs).toISOString();
    if (netW > energy.peakSurplusW) [energy.peakSurplusW, energy.peakSurplusAt] = [netW, at];
    if (-netW > energy.peakDeficitW) [energy.peakDeficitW, energy.peakDeficitAt] = [-netW, at];
  }

  private emit(emissions: Emission[], power: Pick<MeterPower, "meterId" | "genW" | "conW">, communityId: string, atMs: number): void {
    const { meterId, genW, conW } = power;
    const community = meterId === COMMUNITY_METER_ID;
    const subject = community ? communityReadingSubject(communityId) : meterReadingSubject(communityId, meterId);
    const key = `${communityId}/${meterId}`;
    const held = this.held.get(key);
    this.held.delete(key);
    for (const decision of this.options.faults.decide({ communityId, meterId, measuredAtMs: atMs, seq: atMs }, this.options.intervalMs)) {
      const measuredAt = new Date(decision.kind === "send" ? decision.measuredAtMs : atMs).toISOString();
      if (decision.kind === "malformed") {
        const payload = malformedPayload(decision.variant, { meterId, communityId, measuredAt, seq: atMs });
        // Counted exactly as the aggregator's decoder sees it (nothing, if it is truly malformed).
        const decoded = decodeReading(subject, payload, atMs);
        emissions.push({
          subject,
          payload,
          dedupId: `${dedupId(communityId, meterId, atMs)}.bad`,
          ...(decoded.ok && { counted: { communityId: decoded.communityId, meterId: decoded.meterId, state: decoded.state } }),
        });
        continue;
      }
      const reading = community ? { communityId, genW, conW, measuredAt } : { meterId, communityId, genW, conW, measuredAt, seq: atMs };
      const emission: Emission = {
        subject,
        payload: JSON.stringify(reading),
        dedupId: `${dedupId(communityId, meterId, atMs)}${decision.copy ? ".dup" : ""}`,
        counted: { communityId, meterId, state: { genW, conW, measuredAtMs: decision.measuredAtMs, seq: atMs } },
      };
      if (decision.hold) this.held.set(key, emission);
      else emissions.push(emission);
    }
    if (held) emissions.push(held);
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

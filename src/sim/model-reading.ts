import { communityReadingSubject, dedupIdHead, meterReadingSubject } from "../wire/names.js";
import { COMMUNITY_METER_ID } from "../domain/ids.js";
import type { CadenceFields } from "../domain/reading.js";
import type { Emission } from "./sources.js";

/** A meter's names on the wire, built once instead of once per reading. */
export interface MeterWire {
  readonly communityId: string;
  readonly meterId: string;
  readonly subject: string;
  /** Key of the reorder fault's held reading. */
  readonly key: string;
  /** `<communityId>.<meterId>.`: the dedup id without its seq. */
  readonly dedupHead: string;
  /** The payload's JSON up to the value of genW. */
  readonly payloadHead: string;
  /** The cadence fields the meter sends (its group's `intervalMs` and `averaged`), and their JSON after seq. */
  readonly cadence: CadenceFields;
  readonly payloadTail: string;
}

/** The cadence of a meter that declares none: one object for all of them. */
export const NO_CADENCE: CadenceFields = Object.freeze({});

export function meterWire(communityId: string, meterId: string, cadence: CadenceFields = NO_CADENCE): MeterWire {
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
    cadence,
    // Same key order as JSON.stringify of {…, seq, intervalMs, averaged}.
    payloadTail: JSON.stringify(cadence).slice(1, -1).replace(/^(?=.)/, ","),
  };
}

/**
 * A reading of the models that writes its payload and dedup id when asked, that is when the
 * publisher sends it: made up front, the strings of every reading awaiting its ack outlived
 * the young generation, and GC was the largest CPU cost at 50k readings/s (issue 7).
 */
export class ModelReading implements Emission {
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
      const { communityId, meterId, cadence } = wire;
      return JSON.stringify(community ? { communityId, genW, conW, measuredAt, ...cadence } : { meterId, communityId, genW, conW, measuredAt, seq: this.seq, ...cadence });
    }
    // String(-0) is "0", as in JSON.
    return `${wire.payloadHead}${genW},"conW":${conW},"measuredAt":"${measuredAt}"${community ? "" : `,"seq":${this.seq}`}${wire.payloadTail}}`;
  }

  get dedupId(): string {
    return this.copy ? `${this.wire.dedupHead}${this.seq}.dup` : `${this.wire.dedupHead}${this.seq}`;
  }

  get counted(): NonNullable<Emission["counted"]> {
    const { communityId, meterId } = this.wire;
    return { communityId, meterId, state: { genW: this.genW, conW: this.conW, measuredAtMs: this.measuredAtMs, seq: this.seq, ...this.wire.cadence } };
  }
}

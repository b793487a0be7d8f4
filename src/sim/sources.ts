import type { MeterState } from "../domain/totals.js";

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

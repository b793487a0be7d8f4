/** A reading of one meter, as the aggregator keeps it. */
export interface MeterState {
  readonly genW: number;
  readonly conW: number;
  readonly measuredAtMs: number;
  readonly seq: number;
  /** The meter's reporting interval, when the reading declares it. */
  readonly intervalMs?: number;
  /** genW/conW are the mean over the `intervalMs` before measuredAt. */
  readonly averaged?: boolean;
}

/** A meter's newest reading with how long it holds (energy/validity.ts). */
export interface LiveMeter {
  readonly genW: number;
  readonly conW: number;
  readonly measuredAtMs: number;
  readonly holdMs: number;
}

/** Totals over the meters of a community, before they get a version and a wall-clock stamp. */
export interface Totals {
  readonly genW: number;
  readonly conW: number;
  readonly meters: number;
  readonly stale: number;
  readonly measuredAtMs: number;
}

/** True when `candidate` beats `current`: a higher (measuredAt, seq) wins; equal or older changes nothing. */
export function isNewer(candidate: MeterState, current: MeterState | undefined): boolean {
  if (!current) return true;
  if (candidate.measuredAtMs !== current.measuredAtMs) return candidate.measuredAtMs > current.measuredAtMs;
  return candidate.seq > current.seq;
}

/** Whether a meter's newest reading still holds when its community's newest reading is at `newestMs` (energy/validity.ts). */
export function holds(meter: LiveMeter, newestMs: number): boolean {
  return newestMs - meter.measuredAtMs <= meter.holdMs;
}

/**
 * Sums the meters whose newest reading still holds (is at most its `holdMs` of data time behind
 * the community's newest reading); the others are counted as stale.
 */
export function computeTotals(all: readonly LiveMeter[]): Totals {
  const newest = all.reduce((max, m) => Math.max(max, m.measuredAtMs), Number.NEGATIVE_INFINITY);
  let genW = 0;
  let conW = 0;
  let included = 0;
  for (const meter of all) {
    if (!holds(meter, newest)) continue;
    genW += meter.genW;
    conW += meter.conW;
    included += 1;
  }
  return { genW, conW, meters: included, stale: all.length - included, measuredAtMs: all.length ? newest : 0 };
}


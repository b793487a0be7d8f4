import { type Energy, MINUTE_MS, NO_ENERGY, WMS_PER_WH, addEnergy } from "./meter-energy.js";

/** The settlement interval of energy sharing: shared energy is matched within it. */
export const SETTLEMENT_INTERVAL_MS = 15 * MINUTE_MS;

/**
 * A community's energy and KPIs over one bucket of data time [startMs, endMs), with the
 * conventions of design.md: `importWh`/`exportWh` are the sums of the meters' own import and
 * export; `sharedWh` = min(Σ export, Σ import) matched per interval; what is left goes to or
 * comes from the grid. Fractions are 0…1, null when there is nothing to divide by (no
 * consumption, no generation).
 */
export interface EnergyBucket {
  readonly startMs: number;
  readonly endMs: number;
  readonly genWh: number;
  readonly conWh: number;
  readonly importWh: number;
  readonly exportWh: number;
  readonly sharedWh: number;
  readonly gridImportWh: number;
  readonly gridExportWh: number;
  /** 1 − grid import / consumption. */
  readonly selfSufficiency: number | null;
  /** 1 − grid export / generation. */
  readonly selfConsumption: number | null;
}

/**
 * A bucket as history answers it: `complete` once it is final — it ended before the community's
 * final data time (no meter can still add to it, every reading within its grace is in) and no
 * reading came too late for it — and `late`, the readings that did (issue 17). A settlement
 * report never shows a partial quarter hour as final.
 */
export interface HistoryBucket extends EnergyBucket {
  readonly complete: boolean;
  readonly late: number;
}

function bucketOf(startMs: number, endMs: number, energy: Energy, sharedWms: number): EnergyBucket {
  const gridImportWms = energy.importWms - sharedWms;
  const gridExportWms = energy.exportWms - sharedWms;
  return {
    startMs,
    endMs,
    genWh: energy.genWms / WMS_PER_WH,
    conWh: energy.conWms / WMS_PER_WH,
    importWh: energy.importWms / WMS_PER_WH,
    exportWh: energy.exportWms / WMS_PER_WH,
    sharedWh: sharedWms / WMS_PER_WH,
    gridImportWh: gridImportWms / WMS_PER_WH,
    gridExportWh: gridExportWms / WMS_PER_WH,
    selfSufficiency: energy.conWms > 0 ? 1 - gridImportWms / energy.conWms : null,
    selfConsumption: energy.genWms > 0 ? 1 - gridExportWms / energy.genWms : null,
  };
}

interface SettledInterval {
  readonly energy: Energy;
  readonly sharedWms: number;
}

/** Per-minute sums added up per interval of `intervalMs` (aligned to UTC), shared energy matched within each. */
function settledIntervals(minutes: ReadonlyMap<number, Energy>, intervalMs: number): Map<number, SettledInterval> {
  const sums = new Map<number, Energy>();
  for (const [minuteStartMs, energy] of minutes) {
    const startMs = Math.floor(minuteStartMs / intervalMs) * intervalMs;
    sums.set(startMs, addEnergy(sums.get(startMs) ?? NO_ENERGY, energy));
  }
  const settled = new Map<number, SettledInterval>();
  for (const [startMs, energy] of sums) settled.set(startMs, { energy, sharedWms: Math.min(energy.importWms, energy.exportWms) });
  return settled;
}

/**
 * A community's per-minute sums (see `addMinutes`) settled into buckets of `intervalMs`
 * (a minute, or SETTLEMENT_INTERVAL_MS), aligned to UTC, sorted, only those with data.
 * Import and export add up across minutes, but shared energy is matched per bucket: a
 * neighbour's export in one minute covers an import in another minute of the same bucket.
 */
export function settle(minutes: ReadonlyMap<number, Energy>, intervalMs: number): EnergyBucket[] {
  return [...settledIntervals(minutes, intervalMs)]
    .sort(([a], [b]) => a - b)
    .map(([startMs, { energy, sharedWms }]) => bucketOf(startMs, startMs + intervalMs, energy, sharedWms));
}

/** The period [startMs, endMs) of data time that holds an instant: an hour or a day, in some time zone. */
export type PeriodOf = (ms: number) => { readonly startMs: number; readonly endMs: number };

/**
 * A community's per-minute sums rolled up into longer periods (hours, days; see calendar.ts):
 * settled per settlement interval first, then added up — shared energy is the sum of what
 * was shared in each interval, since matching does not reach across intervals — and the KPIs
 * recomputed from the sums. An interval goes to the period holding its start (periods in
 * any of today's time zones start on a quarter hour).
 */
export function rollUp(minutes: ReadonlyMap<number, Energy>, periodOf: PeriodOf): EnergyBucket[] {
  const intervals = [...settledIntervals(minutes, SETTLEMENT_INTERVAL_MS)].sort(([a], [b]) => a - b);
  const buckets: EnergyBucket[] = [];
  let period: { startMs: number; endMs: number; energy: Energy; sharedWms: number } | undefined;
  for (const [intervalStartMs, interval] of intervals) {
    // Intervals come in order: ask for a period (a time-zone lookup) only when one ends.
    if (!period || intervalStartMs >= period.endMs) {
      if (period) buckets.push(bucketOf(period.startMs, period.endMs, period.energy, period.sharedWms));
      period = { ...periodOf(intervalStartMs), energy: NO_ENERGY, sharedWms: 0 };
    }
    period.energy = addEnergy(period.energy, interval.energy);
    period.sharedWms += interval.sharedWms;
  }
  if (period) buckets.push(bucketOf(period.startMs, period.endMs, period.energy, period.sharedWms));
  return buckets;
}

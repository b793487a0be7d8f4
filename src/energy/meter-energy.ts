/**
 * One meter's power readings integrated into energy, split at minute boundaries of data time
 * (issue 11). Pure: no I/O.
 *
 * Energy is counted in watt-milliseconds (W·ms): whole watts (readings are rounded to them)
 * times whole milliseconds are whole numbers, so sums are exact and do not depend on the order
 * in which meters or minutes are added — a replay or a rebuilt aggregator gets the same bits.
 * A community of 100 MW stays below 2^53 W·ms for a whole day.
 */

export const MINUTE_MS = 60_000;
export const WMS_PER_WH = 3_600_000;

/** What a reading contributes to energy: its power and its data time. */
export interface PowerReading {
  readonly genW: number;
  readonly conW: number;
  readonly measuredAtMs: number;
}

/**
 * Energy behind one meter, or summed over meters, in W·ms. `importWms`/`exportWms` are the
 * meters' own deficit max(0, con − gen) and surplus max(0, gen − con), integrated per meter.
 */
export interface Energy {
  readonly genWms: number;
  readonly conWms: number;
  readonly importWms: number;
  readonly exportWms: number;
}

/** Energy within the minute of data time starting at `minuteStartMs` (UTC, a multiple of a minute). */
export interface MinuteEnergy extends Energy {
  readonly minuteStartMs: number;
}

export const NO_ENERGY: Energy = { genWms: 0, conWms: 0, importWms: 0, exportWms: 0 };

export function addEnergy(a: Energy, b: Energy): Energy {
  return {
    genWms: a.genWms + b.genWms,
    conWms: a.conWms + b.conWms,
    importWms: a.importWms + b.importWms,
    exportWms: a.exportWms + b.exportWms,
  };
}

/** The energy of a constant power held for `ms`: import and export are the meter's own (never netted across time). */
export function powerOver(power: Pick<PowerReading, "genW" | "conW">, ms: number): Energy {
  const netW = power.genW - power.conW;
  return {
    genWms: power.genW * ms,
    conWms: power.conW * ms,
    importWms: Math.max(0, -netW) * ms,
    exportWms: Math.max(0, netW) * ms,
  };
}

/**
 * The energy of `power` held from `fromMs` to `toMs`, split at minute boundaries of data time.
 * Import and export are taken per piece, where the power is constant, so they are exact, and a
 * meter's import never nets against its own export of another moment.
 */
export function minuteSlices(fromMs: number, toMs: number, power: Pick<PowerReading, "genW" | "conW">): MinuteEnergy[] {
  const slices: MinuteEnergy[] = [];
  for (let from = fromMs; from < toMs; ) {
    const minuteStartMs = Math.floor(from / MINUTE_MS) * MINUTE_MS;
    const to = Math.min(toMs, minuteStartMs + MINUTE_MS);
    slices.push({ minuteStartMs, ...powerOver(power, to - from) });
    from = to;
  }
  return slices;
}

/** Adds slices into per-minute sums: several meters' slices make a community's minutes. */
export function addMinutes(minutes: Map<number, Energy>, slices: Iterable<MinuteEnergy>): void {
  for (const { minuteStartMs, ...energy } of slices) minutes.set(minuteStartMs, addEnergy(minutes.get(minuteStartMs) ?? NO_ENERGY, energy));
}

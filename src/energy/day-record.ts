import { type Energy, MINUTE_MS } from "./meter-energy.js";

export const MINUTES_PER_DAY = 1_440;
const DAY_MS = MINUTES_PER_DAY * MINUTE_MS;

/**
 * A community's per-minute sums of one UTC day, as stored (one KV value per community and
 * day): four columns of 1,440 whole W·ms, minute 0 at 00:00 UTC, 0 where nothing was
 * measured. UTC days, not `--tz` days, so that what is stored does not depend on a flag; a
 * local day reads two records. Shared energy and the KPIs are not stored: they follow from
 * these sums for any bucket size.
 */
interface DayRecord {
  /** The UTC date, YYYY-MM-DD. */
  readonly day: string;
  readonly gen: readonly number[];
  readonly con: readonly number[];
  readonly imp: readonly number[];
  readonly exp: readonly number[];
}

export function utcDayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** The minutes of `minutes` within the UTC day starting at `dayStartMs`, as JSON. */
export function encodeDay(dayStartMs: number, minutes: ReadonlyMap<number, Energy>): string {
  const column = () => new Array<number>(MINUTES_PER_DAY).fill(0);
  const record = { day: new Date(dayStartMs).toISOString().slice(0, 10), gen: column(), con: column(), imp: column(), exp: column() };
  for (const [minuteStartMs, energy] of minutes) {
    const index = (minuteStartMs - dayStartMs) / MINUTE_MS;
    if (index < 0 || index >= MINUTES_PER_DAY) continue;
    record.gen[index] = energy.genWms;
    record.con[index] = energy.conWms;
    record.imp[index] = energy.importWms;
    record.exp[index] = energy.exportWms;
  }
  return JSON.stringify(record satisfies DayRecord);
}

function isColumn(value: unknown): value is number[] {
  return Array.isArray(value) && value.length === MINUTES_PER_DAY && value.every((n) => Number.isSafeInteger(n) && n >= 0);
}

/** A stored day back as per-minute sums (minutes without data left out); undefined when malformed. */
export function decodeDay(text: string): { dayStartMs: number; minutes: Map<number, Energy> } | undefined {
  let value: Partial<Record<keyof DayRecord, unknown>>;
  try {
    value = JSON.parse(text) as typeof value;
  } catch {
    return undefined;
  }
  const { day, gen, con, imp, exp } = value ?? {};
  const dayStartMs = typeof day === "string" && /^\d{4}-\d{2}-\d{2}$/.test(day) ? Date.parse(`${day}T00:00:00Z`) : Number.NaN;
  if (!Number.isFinite(dayStartMs) || !isColumn(gen) || !isColumn(con) || !isColumn(imp) || !isColumn(exp)) return undefined;
  const minutes = new Map<number, Energy>();
  for (let index = 0; index < MINUTES_PER_DAY; index += 1) {
    const energy = { genWms: gen[index]!, conWms: con[index]!, importWms: imp[index]!, exportWms: exp[index]! };
    if (energy.genWms || energy.conWms || energy.importWms || energy.exportWms) minutes.set(dayStartMs + index * MINUTE_MS, energy);
  }
  return { dayStartMs, minutes };
}

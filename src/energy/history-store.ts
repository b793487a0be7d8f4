import { energyDayKey, energyFinalKey } from "../wire/names.js";
import { type EnergyBucket, type HistoryBucket, type PeriodOf, SETTLEMENT_INTERVAL_MS, rollUp, settle } from "./buckets.js";
import { daysIn, hoursIn } from "./calendar.js";
import { decodeDay, utcDayStart } from "./day-record.js";
import type { KpiPeriod, Step } from "./history-query.js";
import { type Energy, MINUTE_MS } from "./meter-energy.js";

const DAY_MS = 1_440 * MINUTE_MS;

/** What the store needs of a NATS KV bucket (ENERGY_BUCKET): a get by key. */
export interface DayRecordSource {
  get(key: string): Promise<{ readonly operation?: string; string(): string } | null>;
}

/** A community's energy and KPIs over a whole period (a KPI answer): a bucket that always exists. */
export interface PeriodKpis extends HistoryBucket {
  readonly period: KpiPeriod;
}

/** Energy and late readings per minute of a span, and the data time before which it is final (a community's, or one meter's). */
export interface Recorded {
  readonly minutes: Map<number, Energy>;
  readonly late: Map<number, number>;
  readonly finalMs: number;
}

function finalOf(entry: { readonly operation?: string; string(): string } | null): number {
  if (!entry || (entry.operation !== undefined && entry.operation !== "PUT")) return Number.NEGATIVE_INFINITY;
  try {
    const { finalMs } = JSON.parse(entry.string()) as { finalMs?: unknown };
    return typeof finalMs === "number" ? finalMs : Number.NEGATIVE_INFINITY;
  } catch {
    return Number.NEGATIVE_INFINITY;
  }
}

/** The period of a step, in a time zone: a minute or a quarter hour (UTC-aligned), an hour or a day (local). */
function periodsOf(step: Step, timeZone: string): PeriodOf {
  if (step === "1h") return hoursIn(timeZone);
  if (step === "1d") return daysIn(timeZone);
  const ms = step === "1m" ? MINUTE_MS : SETTLEMENT_INTERVAL_MS;
  return (at) => {
    const startMs = Math.floor(at / ms) * ms;
    return { startMs, endMs: startMs + ms };
  };
}

/** A bucket with whether it is final, and the late readings counted in it. */
function withFinality(bucket: EnergyBucket, { late, finalMs }: Recorded): HistoryBucket {
  let lateReadings = 0;
  for (const [minuteMs, count] of late) if (minuteMs >= bucket.startMs && minuteMs < bucket.endMs) lateReadings += count;
  return { ...bucket, complete: bucket.endMs <= finalMs && lateReadings === 0, late: lateReadings };
}

/** [fromMs, toMs) widened to whole buckets of the step: from goes back to the start of its bucket, to forward to the end of its. */
export function widenedSpan(fromMs: number, toMs: number, step: Step, timeZone: string): { readonly startMs: number; readonly endMs: number } {
  const periodOf = periodsOf(step, timeZone);
  // Hours and days are made of quarter hours (rollUp): widen to those first.
  return { startMs: periodOf(fromMs).startMs, endMs: periodOf(toMs - 1).endMs };
}

/** What was recorded of a span as buckets of `step` (minutes and quarter hours UTC-aligned, hours and days in `timeZone`), in order, only those with data. */
export function historyBuckets(recorded: Recorded, step: Step, timeZone: string): HistoryBucket[] {
  const buckets = step === "1m" || step === "15m" ? settle(recorded.minutes, step === "1m" ? MINUTE_MS : SETTLEMENT_INTERVAL_MS) : rollUp(recorded.minutes, periodsOf(step, timeZone));
  return buckets.map((bucket) => withFinality(bucket, recorded));
}

function emptyBucket(startMs: number, endMs: number): EnergyBucket {
  return { startMs, endMs, genWh: 0, conWh: 0, importWh: 0, exportWh: 0, sharedWh: 0, gridImportWh: 0, gridExportWh: 0, selfSufficiency: null, selfConsumption: null };
}

/**
 * The read side of issue 11: history and KPIs from the day records the aggregator writes
 * (one KV value per community and UTC day, src/energy/day-record.ts), one get per UTC day
 * asked for, in parallel. A missing or malformed day counts as no data.
 */
export class HistoryStore {
  constructor(private readonly kv: DayRecordSource) {}

  /** The community's per-minute sums and late readings within [fromMs, toMs), and its final data time. */
  async recorded(communityId: string, fromMs: number, toMs: number): Promise<Recorded> {
    const days: number[] = [];
    for (let day = utcDayStart(fromMs); day < toMs; day += DAY_MS) days.push(day);
    const [final, ...records] = await Promise.all([this.kv.get(energyFinalKey(communityId)), ...days.map((day) => this.kv.get(energyDayKey(communityId, day)))]);
    const minutes = new Map<number, Energy>();
    const late = new Map<number, number>();
    for (const entry of records) {
      if (!entry || (entry.operation !== undefined && entry.operation !== "PUT")) continue;
      const decoded = decodeDay(entry.string());
      if (!decoded) continue;
      for (const [minuteMs, energy] of decoded.minutes) if (minuteMs >= fromMs && minuteMs < toMs) minutes.set(minuteMs, energy);
      for (const [minuteMs, count] of decoded.late) if (minuteMs >= fromMs && minuteMs < toMs) late.set(minuteMs, count);
    }
    return { minutes, late, finalMs: finalOf(final) };
  }

  /**
   * Buckets of `step` covering [fromMs, toMs), widened to whole buckets (from goes back to the
   * start of its bucket, to forward to the end of its), in order, only those with data. Minutes
   * and quarter hours are aligned to UTC, hours and days to `timeZone`.
   */
  async history(communityId: string, fromMs: number, toMs: number, step: Step, timeZone: string): Promise<HistoryBucket[]> {
    const { startMs, endMs } = widenedSpan(fromMs, toMs, step, timeZone);
    return historyBuckets(await this.recorded(communityId, startMs, endMs), step, timeZone);
  }

  /** The data time a KPI period covers at `nowMs`: [start, end), whole settlement intervals. */
  static periodRange(period: KpiPeriod, nowMs: number, timeZone: string): { startMs: number; endMs: number } {
    const endMs = Math.floor(nowMs / SETTLEMENT_INTERVAL_MS) * SETTLEMENT_INTERVAL_MS + SETTLEMENT_INTERVAL_MS;
    if (period === "today") return { startMs: daysIn(timeZone)(nowMs).startMs, endMs };
    return { startMs: endMs - (period === "24h" ? 1 : 7) * DAY_MS, endMs };
  }

  /**
   * KPIs over a period up to now: `today` (since local midnight in `timeZone`), `24h` or `7d`
   * (the last 96 or 672 settlement intervals, the current one included). Shared energy is
   * matched per settlement interval and added up; the fractions come from the sums.
   */
  async kpis(communityId: string, period: KpiPeriod, nowMs: number, timeZone: string): Promise<PeriodKpis> {
    const { startMs, endMs } = HistoryStore.periodRange(period, nowMs, timeZone);
    const recorded = await this.recorded(communityId, startMs, endMs);
    const [bucket] = rollUp(recorded.minutes, () => ({ startMs, endMs }));
    return { period, ...withFinality(bucket ?? emptyBucket(startMs, endMs), recorded) };
  }
}

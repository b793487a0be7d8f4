/**
 * Today's energy and KPIs under the monitor's face (issue 11): fetched from
 * GET /communities/{id}/kpis?period=today, apart from the view, and formatted by a pure function.
 */

/** The part of the /kpis answer the monitor shows: energy in Wh, fractions 0…1 or null. */
export interface TodayKpis {
  readonly genWh: number;
  readonly conWh: number;
  readonly selfSufficiency: number | null;
  readonly selfConsumption: number | null;
}

/** Where the monitor gets today's KPIs: the API, or a fake in tests. Rejects when it cannot. */
export interface KpiSource {
  today(communityId: string): Promise<TodayKpis>;
}

/** What the line shows: nothing yet, the last value (stale after a failed refresh), or only a failure. */
export interface TodayState {
  readonly kpis?: TodayKpis;
  /** The last refresh failed: `kpis`, if any, is the value before. */
  readonly failed: boolean;
}

/** Today's KPIs are asked for at start and then once a minute, never more often per community. */
export const KPI_REFRESH_MS = 60_000;

const kwh = (wh: number): string => `${(wh / 1000).toFixed(1)} kWh`;
const percent = (fraction: number | null): string => (fraction === null ? "–" : `${Math.round(fraction * 100)} %`);

/**
 * `today  gen 12.4 kWh · con 18.9 kWh · self-sufficiency 61 % · self-consumption 83 %`;
 * a fraction without energy to divide by is `–`; the last value is kept and marked stale
 * when a refresh failed.
 */
export function formatTodayLine(state: TodayState | undefined): string {
  const kpis = state?.kpis;
  if (!kpis) return state?.failed ? "today  – (kWh not available)" : "today  …";
  const line = `today  gen ${kwh(kpis.genWh)} · con ${kwh(kpis.conWh)} · self-sufficiency ${percent(kpis.selfSufficiency)} · self-consumption ${percent(kpis.selfConsumption)}`;
  return state.failed ? `${line}  (stale)` : line;
}

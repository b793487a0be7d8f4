import { netWatts } from "../domain/aggregate.js";
import { holds } from "../domain/totals.js";
import { CommunityMeters } from "./community-meters.js";
import { type Parsed, single, unknownParameter } from "./history-query.js";
import { restoredMeter, type StoredMeter } from "./stored-meter.js";

/**
 * A community's meters one by one (issue 23): each meter's newest reading, its cadence, and
 * whether it is stale, judged by the rule of validity.ts exactly as the live totals judge it, from
 * the per-meter state the aggregator stores (its snapshot shards and deltas). Pure: no I/O.
 */

/** Orders of a meter list: by net power (importers first), `-net` (exporters first), stale ones first (longest silent first), or by id. */
export const METER_SORTS = ["net", "-net", "stale", "id"] as const;
export type MeterSort = (typeof METER_SORTS)[number];
export const DEFAULT_METER_SORT: MeterSort = "-net";
/** At most this many meters per answer (and the default). */
export const MAX_METER_LIMIT = 100_000;

export interface MeterRow {
  readonly meterId: string;
  readonly genW: number;
  readonly conW: number;
  readonly netW: number;
  readonly measuredAtMs: number;
  /** Declared by its newest reading or learned from its gaps; undefined while unknown (one reading so far). */
  readonly cadenceMs: number | undefined;
  /** How long its newest reading holds after its measuredAt. */
  readonly holdMs: number;
  /** Data time between its newest reading and the community's newest reading. */
  readonly ageMs: number;
  /** Its newest reading no longer holds: it is left out of the community's totals. */
  readonly stale: boolean;
}

export interface MeterList {
  /** The community's newest reading (data time): what the meters' age is measured from. */
  readonly measuredAtMs: number;
  readonly rows: MeterRow[];
}

/** A stored snapshot shard or delta (aggregator/snapshot-shards.ts), as far as the meters go. */
interface StoredSnapshot {
  readonly meters?: Record<string, StoredMeter>;
}

/**
 * The meters of a community from its stored snapshot values (JSON, any order): merged as a
 * restarting aggregator merges them (per meter the newest reading wins), judged with `floorMs`
 * (`--stale-after`). Undefined when no value holds a meter.
 */
export function meterList(snapshots: readonly string[], floorMs: number): MeterList | undefined {
  const meters = new CommunityMeters(floorMs, () => undefined);
  for (const json of snapshots) {
    const snapshot = JSON.parse(json) as StoredSnapshot;
    for (const [meterId, stored] of Object.entries(snapshot.meters ?? {})) meters.restore(meterId, restoredMeter(stored, floorMs));
  }
  if (!meters.size) return undefined;
  let measuredAtMs = Number.NEGATIVE_INFINITY;
  for (const meter of meters.all.values()) measuredAtMs = Math.max(measuredAtMs, meter.measuredAtMs);
  const rows = [...meters.all].map(([meterId, meter]): MeterRow => ({
    meterId,
    genW: meter.genW,
    conW: meter.conW,
    netW: netWatts(meter.genW, meter.conW),
    measuredAtMs: meter.measuredAtMs,
    cadenceMs: meter.cadenceMs(),
    holdMs: meter.holdMs,
    ageMs: measuredAtMs - meter.measuredAtMs,
    stale: !holds(meter, measuredAtMs),
  }));
  return { measuredAtMs, rows };
}

const byId = (a: MeterRow, b: MeterRow): number => (a.meterId < b.meterId ? -1 : a.meterId > b.meterId ? 1 : 0);
const ORDERS: Record<MeterSort, (a: MeterRow, b: MeterRow) => number> = {
  net: (a, b) => a.netW - b.netW || byId(a, b),
  "-net": (a, b) => b.netW - a.netW || byId(a, b),
  stale: (a, b) => Number(b.stale) - Number(a.stale) || b.ageMs - a.ageMs || byId(a, b),
  id: byId,
};

/** The rows in `sort` order, the first `limit` of them. */
export function sortMeters(rows: readonly MeterRow[], sort: MeterSort, limit = MAX_METER_LIMIT): MeterRow[] {
  return [...rows].sort(ORDERS[sort]).slice(0, limit);
}

export interface MetersQuery {
  readonly sort: MeterSort;
  readonly limit: number;
}

/** The parameters of `GET /communities/{id}/meters`: `sort` (default `-net`) and `limit` (default and at most MAX_METER_LIMIT). */
export function parseMetersQuery(params: URLSearchParams): Parsed<MetersQuery> {
  const unknown = unknownParameter(params, ["sort", "limit"]);
  if (unknown) return { ok: false, error: unknown };
  const sort = single(params, "sort");
  if (!sort.ok) return sort;
  const limit = single(params, "limit");
  if (!limit.ok) return limit;
  const sortValue = sort.value ?? DEFAULT_METER_SORT;
  if (!(METER_SORTS as readonly string[]).includes(sortValue)) return { ok: false, error: `sort must be one of ${METER_SORTS.join(", ")}, not ${JSON.stringify(sortValue)}` };
  const limitValue = limit.value === undefined ? MAX_METER_LIMIT : Number(limit.value.trim());
  if (!/^\d+$/.test(limit.value?.trim() ?? "1") || !Number.isSafeInteger(limitValue) || limitValue < 1 || limitValue > MAX_METER_LIMIT) {
    return { ok: false, error: `limit must be a whole number from 1 to ${MAX_METER_LIMIT}, not ${JSON.stringify(limit.value)}` };
  }
  return { ok: true, value: { sort: sortValue as MeterSort, limit: limitValue } };
}

/** A row as the API answers it: the time as ISO-8601, an unknown cadence as null. */
export function meterJson({ meterId, genW, conW, netW, measuredAtMs, cadenceMs, holdMs, stale, ageMs }: MeterRow) {
  return { meterId, genW, conW, netW, measuredAt: new Date(measuredAtMs).toISOString(), cadenceMs: cadenceMs ?? null, holdMs, stale, ageMs };
}

export type MeterJson = ReturnType<typeof meterJson>;

/** The answer of GET /communities/{id}/meters. */
export interface MeterListJson {
  readonly communityId: string;
  /** The community's newest reading (ISO-8601). */
  readonly measuredAt: string;
  /** Meters and stale meters of the community, before `limit`. */
  readonly count: number;
  readonly stale: number;
  readonly meters: MeterJson[];
}

/** The columns of a meter list as CSV, in order. */
export const METER_FIELDS = ["meterId", "genW", "conW", "netW", "measuredAt", "cadenceMs", "holdMs", "stale", "ageMs"] as const satisfies readonly (keyof MeterJson)[];

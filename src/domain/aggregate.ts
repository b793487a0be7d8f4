/**
 * A community's aggregate as stored in Redis and KV, pushed on the change feed,
 * sent as SSE `data:` and returned by GET /communities/{id}.
 */
export interface Aggregate {
  readonly communityId: string;
  readonly genW: number;
  readonly conW: number;
  /** genW − conW: positive = surplus (export), negative = deficit (import). */
  readonly netW: number;
  /** Meters included in the totals. */
  readonly meters: number;
  /** Meters left out because their newest reading is too old in data time. */
  readonly stale: number;
  /** Data time of the newest included reading (ISO-8601). */
  readonly measuredAt: string;
  /** Wall-clock time the aggregate was computed (ISO-8601). */
  readonly aggregatedAt: string;
  /** Increases with every change of this community; the SSE event id. */
  readonly version: number;
}

export function netWatts(genW: number, conW: number): number {
  return genW - conW;
}

/** Reads an aggregate from JSON written by ecwatch or by the reference prototype (which lacks most fields). */
export function aggregateFromJson(text: string): Aggregate | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Partial<Record<keyof Aggregate, unknown>>;
  if (typeof v.genW !== "number" || typeof v.conW !== "number") return undefined;
  return {
    communityId: typeof v.communityId === "string" ? v.communityId : "",
    genW: v.genW,
    conW: v.conW,
    netW: typeof v.netW === "number" ? v.netW : netWatts(v.genW, v.conW),
    meters: typeof v.meters === "number" ? v.meters : 1,
    stale: typeof v.stale === "number" ? v.stale : 0,
    measuredAt: typeof v.measuredAt === "string" ? v.measuredAt : "",
    aggregatedAt: typeof v.aggregatedAt === "string" ? v.aggregatedAt : "",
    version: typeof v.version === "number" ? v.version : 0,
  };
}

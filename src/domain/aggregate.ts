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
  /** Increases with every change of this community, within its epoch. */
  readonly version: number;
  /**
   * New (and larger) on every reset of the community's state: the wall-clock ms at which the
   * aggregator created the state from nothing; 0 for state stored before epochs (issue 18).
   */
  readonly epoch: number;
}

/** Where an aggregate stands in its community's sequence: its epoch, then its version. */
export type AggregatePosition = Pick<Aggregate, "epoch" | "version">;

/**
 * True when `candidate` replaces `current`: a higher epoch (the state was reset since), or the
 * same epoch and a higher version. An older or equal one changes nothing; a lower version alone
 * is never a reset (a late message or a slow aggregator can deliver one, issue 18).
 */
export function supersedes(candidate: AggregatePosition, current: AggregatePosition | undefined): boolean {
  if (!current) return true;
  if (candidate.epoch !== current.epoch) return candidate.epoch > current.epoch;
  return candidate.version > current.version;
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
    epoch: typeof v.epoch === "number" ? v.epoch : 0,
  };
}

/** An ISO-8601 date-time as `Date#toISOString` writes it (or with an offset). */
const ISO_DATE_TIME = /^[+-]?\d{4,6}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/**
 * Whether `value` has the full shape ecwatch's aggregator writes for `communityId`: its id,
 * integer watts with netW = genW − conW, integer counts, both timestamps, a version ≥ 1 (and an
 * integer `epoch` when present). Anything else in Redis or `ec_latest` was written by another
 * writer, e.g. the prototype's aggregator (`{"genW": …, "conW": …, "measuredAt": …}`), and is
 * never served or kept as ecwatch's (issue 18).
 */
export function isEcwatchAggregate(value: unknown, communityId: string): value is Aggregate {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Partial<Record<keyof Aggregate | "epoch", unknown>>;
  return (
    v.communityId === communityId &&
    Number.isSafeInteger(v.genW) &&
    Number.isSafeInteger(v.conW) &&
    v.netW === netWatts(v.genW as number, v.conW as number) &&
    isCount(v.meters) &&
    isCount(v.stale) &&
    typeof v.measuredAt === "string" &&
    ISO_DATE_TIME.test(v.measuredAt) &&
    typeof v.aggregatedAt === "string" &&
    ISO_DATE_TIME.test(v.aggregatedAt) &&
    Number.isSafeInteger(v.version) &&
    (v.version as number) >= 1 &&
    (v.epoch === undefined || Number.isSafeInteger(v.epoch))
  );
}

/** The aggregate in `json` when ecwatch's aggregator wrote it for `communityId` (isEcwatchAggregate); undefined for anything else. */
export function ecwatchAggregateFromJson(json: string, communityId: string): Aggregate | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  return isEcwatchAggregate(value, communityId) ? value : undefined;
}

/**
 * What the API needs of the world, named for what it wants (issue 16). The adapters implement
 * each port once, named for their technology (src/nats/, src/redis/, energy/history-store.ts),
 * without importing this file: the composition root passes them where a port is expected.
 * Tests pass hand-written in-memory fakes. An upstream failure is an UpstreamError (src/errors.ts).
 */
import type { Aggregate } from "../domain/aggregate.js";
import type { CommunityReading } from "../domain/reading.js";
import type { HistoryBucket } from "../energy/buckets.js";
import type { KpiPeriod, Step } from "../energy/history-query.js";
import type { ArchivedReadings } from "../energy/meter-history.js";

/** Where a latest value came from, for the `X-Ecwatch-Source` header and tests. */
export type LatestSource = "redis" | "kv";

/** A community's latest aggregate and where it was read. */
export interface LatestValue {
  readonly aggregate: Aggregate;
  readonly source: LatestSource;
}

/**
 * Reads the latest aggregates (GET /communities, /communities/{id}, the first SSE event). Only
 * ecwatch's aggregator's values are returned: a record another writer put there is a
 * ForeignValueError (latest-store.ts), never a value (issue 18).
 */
export interface LatestAggregates {
  get(communityId: string): Promise<LatestValue | undefined>;
  /** Every community's latest aggregate, sorted by id. */
  all(): Promise<Aggregate[]>;
}

/** The fast copy of the latest aggregates, as JSON (Redis); may miss and may fail. */
export interface LatestCache {
  getLatest(communityId: string): Promise<string | null>;
  /**
   * Writes a value read from the records back, unless the cache holds one already; given
   * `replacing` (another writer's value found there), also when the cache still holds exactly that.
   */
  refillLatest(communityId: string, json: string, replacing?: string): Promise<void>;
}

/** The records of the latest aggregates, as JSON (NATS KV): what the cache is refilled from. */
export interface LatestRecords {
  get(communityId: string): Promise<string | undefined>;
  /** The ids of every community with a record, in any order. */
  communityIds(): Promise<string[]>;
}

/** Where a published reading went. */
export interface PublishedReading {
  readonly subject: string;
  /** Its sequence number in the stream. */
  readonly seq: number;
}

/** Hands a validated reading to the bus (POST /communities); resolves once it is stored. */
export interface ReadingPublisher {
  publish(reading: CommunityReading): Promise<PublishedReading>;
}

/** One community's subscription to the change feed. */
export interface ChangeSubscription {
  /** Settles once no later change can be missed. */
  readonly ready: Promise<void>;
  unsubscribe(): void;
}

/** The change feed: each new aggregate of a community, as its JSON, as it is written. */
export interface ChangeFeed {
  subscribe(communityId: string, onChange: (json: string) => void): ChangeSubscription;
}

/** Energy history and KPIs of a community (issue 11). */
export interface EnergyHistory {
  history(communityId: string, fromMs: number, toMs: number, step: Step, timeZone: string): Promise<HistoryBucket[]>;
  kpis(communityId: string, period: KpiPeriod, nowMs: number, timeZone: string): Promise<HistoryBucket & { readonly period: KpiPeriod }>;
}

/** Whether each upstream answers now, for /healthz and /readyz. */
export interface UpstreamHealth {
  readonly nats: boolean;
  readonly redis: boolean;
}

/** Tells whether the API can take traffic. */
export interface Readiness {
  upstreams(): Promise<UpstreamHealth>;
}

/** An upstream that can be asked whether it answers (a NATS flush, a Redis PING). */
export interface Pingable {
  ping(): Promise<unknown>;
}

/**
 * The per-meter state the aggregator stores of a community (its snapshot shards and deltas in
 * `ec_agg_state`), for GET /communities/{id}/meters (issue 23). Written at most every 100 ms per
 * partition, so it lags the live aggregate by about that much.
 */
export interface MeterSnapshots {
  /** The stored values of the community's snapshot (JSON), in any order; none for a community without one. */
  ofCommunity(communityId: string): Promise<string[]>;
}

/** Which of a meter's archived readings a history needs: those in [fromMs, toMs), and `before`/`after` more on either side, each within `reachMs`. */
export interface MeterReadingsQuery {
  readonly fromMs: number;
  readonly toMs: number;
  /** The newest this many before fromMs. */
  readonly before: number;
  /** The oldest this many at or after toMs. */
  readonly after: number;
  readonly reachMs: number;
}

/**
 * The archive of readings (issue 22), for GET /communities/{id}/meters/{meterId}/history
 * (issue 23): a meter's readings, read back as `ecwatch archive` wrote them.
 */
export interface MeterReadings {
  /** Where the archive is (its directory), for the answer that says there is none there yet. */
  readonly location: string;
  /** The meter's readings of the query, and its community's newest archived reading; undefined when there is no archive at `location`. */
  around(communityId: string, meterId: string, query: MeterReadingsQuery): Promise<ArchivedReadings | undefined>;
  /** Whether the archive holds any reading of the meter. */
  has(communityId: string, meterId: string): Promise<boolean>;
}

import { afterEach } from "vitest";
import type { Aggregate } from "../../src/domain/aggregate.js";
import type { CommunityReading } from "../../src/domain/reading.js";
import type {
  ChangeFeed,
  ChangeSubscription,
  LatestAggregates,
  LatestValue,
  MeterReadings,
  MeterReadingsQuery,
  PublishedReading,
  Readiness,
  ReadingPublisher,
  UpstreamHealth,
} from "../../src/api/ports.js";
import type { ArchivedReadings } from "../../src/energy/meter-history.js";
import type { RuleReading } from "../../src/energy/meter-integrator.js";
import { type ApiDependencies, type ApiServer, createApi, listen } from "../../src/api/server.js";
import { SseHub } from "../../src/api/sse-hub.js";
import { communityReadingSubject } from "../../src/wire/names.js";

/** Hand-written in-memory fakes of the API's ports (src/api/ports.ts): no servers, no casts, no module mocks. */

/** Latest aggregates held in a map, as found in Redis. */
export class MemoryLatest implements LatestAggregates {
  readonly values = new Map<string, Aggregate>();

  constructor(aggregates: readonly Aggregate[] = []) {
    for (const aggregate of aggregates) this.values.set(aggregate.communityId, aggregate);
  }

  async get(communityId: string): Promise<LatestValue | undefined> {
    const aggregate = this.values.get(communityId);
    return aggregate && { aggregate, source: "redis" };
  }

  async all(): Promise<Aggregate[]> {
    return [...this.values.keys()].sort().map((id) => this.values.get(id)!);
  }
}

/** Keeps what is published, numbering it as a stream would; `failWith` makes every publish fail. */
export class RecordingPublisher implements ReadingPublisher {
  readonly published: CommunityReading[] = [];
  failWith: Error | undefined;

  async publish(reading: CommunityReading): Promise<PublishedReading> {
    if (this.failWith) throw this.failWith;
    this.published.push(reading);
    return { subject: communityReadingSubject(reading.communityId), seq: this.published.length };
  }
}

/** A change feed whose changes the test sends with `emit`. */
export class FakeChangeFeed implements ChangeFeed {
  private readonly listeners = new Map<string, Set<(json: string) => void>>();

  subscribe(communityId: string, onChange: (json: string) => void): ChangeSubscription {
    const set = this.listeners.get(communityId) ?? new Set();
    this.listeners.set(communityId, set);
    set.add(onChange);
    return { ready: Promise.resolve(), unsubscribe: () => set.delete(onChange) };
  }

  /** Subscriptions open now for the community. */
  subscribers(communityId: string): number {
    return this.listeners.get(communityId)?.size ?? 0;
  }

  emit(communityId: string, aggregate: Aggregate | string): void {
    const json = typeof aggregate === "string" ? aggregate : JSON.stringify(aggregate);
    for (const listener of this.listeners.get(communityId) ?? []) listener(json);
  }
}

/**
 * An archive of readings held in memory, per community and meter, answering as the DuckDB
 * adapter does; `exists: false` is a directory no archiver has written yet. `asked` records each query.
 */
export class MemoryArchive implements MeterReadings {
  readonly location = "/memory/archive";
  readonly asked: MeterReadingsQuery[] = [];
  private readonly meters = new Map<string, RuleReading[]>();

  constructor(public exists = true) {}

  add(communityId: string, meterId: string, readings: readonly RuleReading[]): this {
    const key = `${communityId}/${meterId}`;
    this.meters.set(key, [...(this.meters.get(key) ?? []), ...readings].sort((a, b) => a.measuredAtMs - b.measuredAtMs));
    return this;
  }

  async around(communityId: string, meterId: string, query: MeterReadingsQuery): Promise<ArchivedReadings | undefined> {
    if (!this.exists) return undefined;
    this.asked.push(query);
    let newestMs = Number.NEGATIVE_INFINITY;
    for (const [key, readings] of this.meters) if (key.startsWith(`${communityId}/`)) newestMs = Math.max(newestMs, readings.at(-1)!.measuredAtMs);
    const reach = (this.meters.get(`${communityId}/${meterId}`) ?? []).filter((r) => r.measuredAtMs >= query.fromMs - query.reachMs && r.measuredAtMs < query.toMs + query.reachMs);
    const earlier = reach.filter((r) => r.measuredAtMs < query.fromMs);
    const before = earlier.slice(Math.max(0, earlier.length - query.before));
    const within = reach.filter((r) => r.measuredAtMs >= query.fromMs && r.measuredAtMs < query.toMs);
    const after = reach.filter((r) => r.measuredAtMs >= query.toMs).slice(0, query.after);
    return { readings: [...before, ...within, ...after], newestMs };
  }

  async has(communityId: string, meterId: string): Promise<boolean> {
    return this.exists && this.meters.has(`${communityId}/${meterId}`);
  }
}

/** Upstreams that are up or down as the test sets them. */
export class FixedReadiness implements Readiness {
  constructor(public health: UpstreamHealth = { nats: true, redis: true }) {}

  async upstreams(): Promise<UpstreamHealth> {
    return this.health;
  }
}

/** The epoch of `aggregateOf`'s aggregates: their state was created at 2026-01-10T12:00Z. */
export const EPOCH = 1_768_046_400_000;

/** An aggregate of one community, with the fields the API sends. */
export function aggregateOf(communityId: string, version: number, genW = 100, conW = 40, epoch = EPOCH): Aggregate {
  return { communityId, genW, conW, netW: genW - conW, meters: 2, stale: 0, measuredAt: "2026-01-10T12:00:00.000Z", aggregatedAt: "2026-01-10T12:00:00.100Z", version, epoch };
}

/** The fakes behind one API, to look at or change in a test. */
export interface FakeApi {
  readonly url: string;
  readonly latest: MemoryLatest;
  readonly readings: RecordingPublisher;
  readonly feed: FakeChangeFeed;
  readonly readiness: FixedReadiness;
  readonly hub: SseHub;
}

/**
 * Starts the API on a free loopback port over fresh fakes (with `overrides` of its dependencies)
 * and closes it after the test; call it from a test or a beforeEach.
 */
export function useFakeApi(): (overrides?: Partial<ApiDependencies>) => Promise<FakeApi> {
  const running: ApiServer[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((api) => api.close()));
  });
  return async (overrides = {}) => {
    const latest = new MemoryLatest();
    const readings = new RecordingPublisher();
    const feed = new FakeChangeFeed();
    const readiness = new FixedReadiness();
    const hub = new SseHub(feed);
    const api = await listen(createApi({ latest, readings, readiness, hub, ...overrides }), "127.0.0.1", 0);
    running.push(api);
    return { url: api.url, latest, readings, feed, readiness, hub };
  };
}

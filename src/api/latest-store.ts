import { type Aggregate, aggregateFromJson } from "../domain/aggregate.js";
import type { LatestAggregates, LatestCache, LatestRecords, LatestValue } from "./ports.js";

export type { LatestSource } from "./ports.js";

/** Reads latest aggregates: the cache (Redis) first, the records (NATS KV) on a miss, refilling the cache. */
export class LatestStore implements LatestAggregates {
  constructor(
    private readonly cache: LatestCache,
    private readonly records: LatestRecords,
  ) {}

  async get(communityId: string): Promise<LatestValue | undefined> {
    // A cache that fails is a miss: the records answer instead.
    const cached = await this.cache.getLatest(communityId).catch(() => null);
    const fromCache = cached === null ? undefined : aggregateFromJson(cached);
    if (fromCache) return { aggregate: withId(fromCache, communityId), source: "redis" };

    const json = await this.records.get(communityId);
    if (json === undefined) return undefined;
    const fromKv = aggregateFromJson(json);
    if (!fromKv) return undefined;
    await this.cache.refillLatest(communityId, json).catch(() => undefined);
    return { aggregate: withId(fromKv, communityId), source: "kv" };
  }

  /** Every community's latest aggregate, sorted by id. */
  async all(): Promise<Aggregate[]> {
    const ids = await this.records.communityIds();
    const found = await Promise.all(ids.sort().map((id) => this.get(id)));
    return found.flatMap((f) => (f ? [f.aggregate] : []));
  }
}

/** The prototype's values lack communityId; the key says which community they are. */
function withId(aggregate: Aggregate, communityId: string): Aggregate {
  return aggregate.communityId ? aggregate : { ...aggregate, communityId };
}

import { type Aggregate, ecwatchAggregateFromJson } from "../domain/aggregate.js";
import { ForeignValueError } from "./foreign-value.js";
import type { LatestAggregates, LatestCache, LatestRecords, LatestValue } from "./ports.js";

export type { LatestSource } from "./ports.js";

/**
 * Reads latest aggregates: the cache (Redis) first, the records (NATS KV) on a miss, refilling
 * the cache. Only values of ecwatch's aggregator count (isEcwatchAggregate): another writer's in
 * the cache is a miss, and is replaced by the record; another writer's record is a
 * ForeignValueError.
 */
export class LatestStore implements LatestAggregates {
  constructor(
    private readonly cache: LatestCache,
    private readonly records: LatestRecords,
  ) {}

  async get(communityId: string): Promise<LatestValue | undefined> {
    // A cache that fails is a miss: the records answer instead.
    const cached = await this.cache.getLatest(communityId).catch(() => null);
    const fromCache = cached === null ? undefined : ecwatchAggregateFromJson(cached, communityId);
    if (fromCache) return { aggregate: fromCache, source: "redis" };

    const json = await this.records.get(communityId);
    if (json === undefined) return undefined;
    const fromKv = ecwatchAggregateFromJson(json, communityId);
    if (!fromKv) throw new ForeignValueError([communityId]);
    // A foreign value in the cache is replaced (only that one: a newer value of the aggregator's stays).
    await this.cache.refillLatest(communityId, json, cached ?? undefined).catch(() => undefined);
    return { aggregate: fromKv, source: "kv" };
  }

  /** Every community's latest aggregate, sorted by id; a ForeignValueError naming every community whose record is another writer's. */
  async all(): Promise<Aggregate[]> {
    const ids = (await this.records.communityIds()).sort();
    const found = await Promise.allSettled(ids.map((id) => this.get(id)));
    const foreign = found.flatMap((f) => (f.status === "rejected" && f.reason instanceof ForeignValueError ? f.reason.communityIds : []));
    if (foreign.length) throw new ForeignValueError(foreign);
    return found.flatMap((f) => {
      if (f.status === "rejected") throw f.reason;
      return f.value ? [f.value.aggregate] : [];
    });
  }
}

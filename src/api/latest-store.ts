import type { KV } from "@nats-io/kv";
import { LATEST_KEY_PREFIX, latestKey } from "../wire/names.js";
import type { RedisCache } from "../redis/redis-cache.js";
import { type Aggregate, aggregateFromJson } from "../domain/aggregate.js";

/** Where a latest value came from, for the `X-Ecwatch-Source` header and tests. */
export type LatestSource = "redis" | "kv";

/** Reads latest aggregates: Redis first, NATS KV on a miss (refilling Redis). */
export class LatestStore {
  constructor(
    private readonly cache: RedisCache,
    private readonly kv: KV,
  ) {}

  async get(communityId: string): Promise<{ aggregate: Aggregate; source: LatestSource } | undefined> {
    const cached = await this.cache.getLatest(communityId).catch(() => null);
    const fromCache = cached === null ? undefined : aggregateFromJson(cached);
    if (fromCache) return { aggregate: withId(fromCache, communityId), source: "redis" };

    const entry = await this.kv.get(latestKey(communityId));
    if (!entry || entry.operation !== "PUT") return undefined;
    const json = entry.string();
    const fromKv = aggregateFromJson(json);
    if (!fromKv) return undefined;
    await this.cache.refillLatest(communityId, json).catch(() => undefined);
    return { aggregate: withId(fromKv, communityId), source: "kv" };
  }

  /** Every community's latest aggregate, sorted by id. */
  async all(): Promise<Aggregate[]> {
    const ids: string[] = [];
    // No key filter: `/` is not a subject token separator, so `community/*` would match nothing.
    for await (const key of await this.kv.keys()) {
      if (key.startsWith(LATEST_KEY_PREFIX)) ids.push(key.slice(LATEST_KEY_PREFIX.length));
    }
    const found = await Promise.all(ids.sort().map((id) => this.get(id)));
    return found.flatMap((f) => (f ? [f.aggregate] : []));
  }
}

/** The prototype's values lack communityId; the key says which community they are. */
function withId(aggregate: Aggregate, communityId: string): Aggregate {
  return aggregate.communityId ? aggregate : { ...aggregate, communityId };
}

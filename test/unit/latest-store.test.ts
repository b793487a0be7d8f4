import { describe, expect, it } from "vitest";
import { ForeignValueError } from "../../src/api/foreign-value.js";
import { LatestStore } from "../../src/api/latest-store.js";
import type { LatestCache, LatestRecords } from "../../src/api/ports.js";
import { aggregateOf } from "../helpers/api-fakes.js";

/** A cache in a map that may be made to fail, counting refills. */
class MemoryCache implements LatestCache {
  readonly values = new Map<string, string>();
  readonly refills: string[] = [];
  failing = false;

  async getLatest(communityId: string): Promise<string | null> {
    if (this.failing) throw new Error("Connection is closed.");
    return this.values.get(communityId) ?? null;
  }

  async refillLatest(communityId: string, json: string, replacing?: string): Promise<void> {
    if (this.failing) throw new Error("Connection is closed.");
    this.refills.push(communityId);
    const current = this.values.get(communityId);
    if (current === undefined || current === replacing) this.values.set(communityId, json);
  }
}

class MemoryRecords implements LatestRecords {
  constructor(readonly values = new Map<string, string>()) {}

  async get(communityId: string): Promise<string | undefined> {
    return this.values.get(communityId);
  }

  async communityIds(): Promise<string[]> {
    return [...this.values.keys()];
  }
}

/** What the prototype's aggregator writes to Redis and KV (Python's json.dumps). */
const PROTOTYPE_VALUE = '{"genW": 5200, "conW": 3100, "measuredAt": "2026-11-22T12:00:00Z"}';

const json = (communityId: string, version: number): string => JSON.stringify(aggregateOf(communityId, version));

describe("LatestStore", () => {
  it("answers from the cache when it holds the community", async () => {
    const cache = new MemoryCache();
    cache.values.set("c1", json("c1", 5));
    const store = new LatestStore(cache, new MemoryRecords(new Map([["c1", json("c1", 4)]])));
    expect(await store.get("c1")).toEqual({ aggregate: aggregateOf("c1", 5), source: "redis" });
  });

  it("on a miss, answers from the records and refills the cache", async () => {
    const cache = new MemoryCache();
    const store = new LatestStore(cache, new MemoryRecords(new Map([["c1", json("c1", 4)]])));
    expect(await store.get("c1")).toEqual({ aggregate: aggregateOf("c1", 4), source: "kv" });
    expect(cache.refills).toEqual(["c1"]);
    expect(await store.get("c1")).toEqual({ aggregate: aggregateOf("c1", 4), source: "redis" });
  });

  it("counts a failing cache as a miss, and a community without a record as none", async () => {
    const cache = new MemoryCache();
    cache.failing = true;
    const store = new LatestStore(cache, new MemoryRecords(new Map([["c1", json("c1", 4)]])));
    expect(await store.get("c1")).toEqual({ aggregate: aggregateOf("c1", 4), source: "kv" });
    expect(await store.get("c2")).toBeUndefined();
  });

  it("takes another writer's value in the cache for a miss, and replaces it with the record", async () => {
    const cache = new MemoryCache();
    cache.values.set("c1", PROTOTYPE_VALUE);
    const store = new LatestStore(cache, new MemoryRecords(new Map([["c1", json("c1", 4)]])));
    expect(await store.get("c1")).toEqual({ aggregate: aggregateOf("c1", 4), source: "kv" });
    expect(cache.values.get("c1")).toBe(json("c1", 4));
  });

  it("never serves another writer's record: a ForeignValueError (503, Retry-After: 1) naming the community", async () => {
    const cache = new MemoryCache();
    const store = new LatestStore(cache, new MemoryRecords(new Map([["c1", PROTOTYPE_VALUE]])));
    const err = await store.get("c1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForeignValueError);
    expect(err).toMatchObject({ status: 503, headers: { "retry-after": "1" } });
    expect((err as Error).message).toBe("community c1's stored value was written by another writer, not ecwatch's aggregator; it is restored within seconds");
    expect(cache.values.has("c1")).toBe(false);
  });

  it("lists every community with a record, sorted by id", async () => {
    const records = new MemoryRecords(new Map([["c2", json("c2", 1)], ["c1", json("c1", 2)]]));
    expect(await new LatestStore(new MemoryCache(), records).all()).toEqual([aggregateOf("c1", 2), aggregateOf("c2", 1)]);
  });

  it("does not list part of the communities while some records are another writer's: a ForeignValueError naming them", async () => {
    const records = new MemoryRecords(new Map([["c2", json("c2", 1)], ["c3", "{not json"], ["c1", PROTOTYPE_VALUE]]));
    const err = await new LatestStore(new MemoryCache(), records).all().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForeignValueError);
    expect((err as ForeignValueError).communityIds).toEqual(["c1", "c3"]);
  });
});

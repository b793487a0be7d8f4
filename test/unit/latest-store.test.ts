import { describe, expect, it } from "vitest";
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

  async refillLatest(communityId: string, json: string): Promise<void> {
    if (this.failing) throw new Error("Connection is closed.");
    this.refills.push(communityId);
    if (!this.values.has(communityId)) this.values.set(communityId, json);
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

  it("gives a prototype's value, which lacks communityId, the id of its key", async () => {
    const { communityId: _, ...prototype } = aggregateOf("c1", 4);
    const store = new LatestStore(new MemoryCache(), new MemoryRecords(new Map([["c1", JSON.stringify(prototype)]])));
    expect((await store.get("c1"))?.aggregate.communityId).toBe("c1");
  });

  it("lists every community with a record, sorted by id, skipping unreadable records", async () => {
    const records = new MemoryRecords(new Map([["c2", json("c2", 1)], ["bad", "{not json"], ["c1", json("c1", 2)]]));
    expect(await new LatestStore(new MemoryCache(), records).all()).toEqual([aggregateOf("c1", 2), aggregateOf("c2", 1)]);
  });
});

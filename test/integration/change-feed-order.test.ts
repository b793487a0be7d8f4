/**
 * Versions only go forward (issue 18, point 3): aggregates published out of order on the change
 * feed, a reset, a stale publisher, and clients resuming with each kind of Last-Event-ID, on a
 * real nats-server, redis-server and API, read with `eventsource` (what ecwatch uses).
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { EventSource } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { wipeEverything } from "../../src/app/adapters.js";
import { startAggregation } from "../../src/app/services.js";
import type { Aggregate } from "../../src/domain/aggregate.js";
import { connectNats } from "../../src/nats/connect.js";
import { RedisCache } from "../../src/redis/redis-cache.js";
import { changeFeedSubject } from "../../src/wire/names.js";
import { eventually, usePipeline } from "../helpers/stack.js";

const pipeline = usePipeline();
let nc: NatsConnection;
let cache: RedisCache;

beforeAll(async () => {
  nc = await connectNats(pipeline.stack.natsUrl, "test-change-feed-order");
  cache = await RedisCache.connect(pipeline.stack.redisUrl);
});

afterAll(async () => {
  await nc?.drain();
  await cache?.close();
});

/** An epoch as the aggregator makes them: the wall-clock ms a community's state was created at. */
const EPOCH = Date.UTC(2026, 10, 22, 12);

const aggregate = (communityId: string, epoch: number, version: number): Aggregate => ({
  communityId,
  genW: 1_000 + version,
  conW: 400,
  netW: 600 + version,
  meters: 2,
  stale: 0,
  measuredAt: "2026-11-22T12:00:00.000Z",
  aggregatedAt: "2026-11-22T12:00:00.010Z",
  version,
  epoch,
});

/** Publishes aggregates on the community's change feed, in this order, as (possibly several) aggregators would. */
async function publish(...aggregates: Aggregate[]): Promise<void> {
  for (const a of aggregates) nc.publish(changeFeedSubject(a.communityId), JSON.stringify(a));
  await nc.flush();
}

/** The community's current value, where the API reads it first (as the aggregator's cache writer puts it). */
const setCurrent = (a: Aggregate): Promise<void> => cache.putLatest([{ communityId: a.communityId, json: JSON.stringify(a) }]);

interface Received {
  readonly id: string;
  readonly epoch: number;
  readonly version: number;
}

/** An `eventsource` client of a community's stream, sending `lastEventId` on its first connect, as a resuming client does. */
class Follower {
  readonly events: Received[] = [];
  /** Resolves at the response's headers: the API has added the client to the community's subscription by then. */
  readonly opened: Promise<void>;
  private readonly source: EventSource;

  constructor(communityId: string, lastEventId?: string) {
    this.source = new EventSource(`${pipeline.api.url}/communities/${communityId}/stream`, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...(lastEventId === undefined ? {} : { "Last-Event-ID": lastEventId }) } }),
    });
    this.opened = new Promise((resolve) => (this.source.onopen = () => resolve()));
    this.source.onmessage = (event) => {
      const { epoch, version } = JSON.parse(event.data) as Aggregate;
      this.events.push({ id: event.lastEventId, epoch, version });
    };
  }

  async receives(count: number): Promise<Received[]> {
    await eventually(async () => (this.events.length >= count ? true : undefined), 10_000, `${count} events`);
    return this.events;
  }

  close(): void {
    this.source.close();
  }
}

/**
 * A client that resumed with `lastEventId`, once the API has offered it the current value: a
 * plain client that connected after it has its own current value (each request reads it after
 * joining the community's subscription, in the order they came).
 */
async function resumed(communityId: string, lastEventId: string): Promise<Follower> {
  const client = new Follower(communityId, lastEventId);
  await client.opened;
  const probe = new Follower(communityId);
  try {
    await probe.receives(1);
  } finally {
    probe.close();
  }
  return client;
}

describe("the change feed out of order", () => {
  it("a client gets 5, 6, 7 of 5, 3, 6, 6, 4, 7; follows a reset (a higher epoch, version 1); drops a stale publisher's older epoch", async () => {
    await setCurrent(aggregate("order1", EPOCH, 4));
    const client = new Follower("order1");
    try {
      // The current value comes after the subscription is live: what is published next reaches the client.
      expect((await client.receives(1)).map((e) => e.version)).toEqual([4]);
      await publish(...[5, 3, 6, 6, 4, 7].map((version) => aggregate("order1", EPOCH, version)));
      const reset = EPOCH + 3_600_000;
      await publish(aggregate("order1", reset, 1));
      // A stale aggregator, still in the old epoch, then the next value of the new one.
      await publish(aggregate("order1", EPOCH, 8), aggregate("order1", reset, 2));
      const events = await client.receives(6);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(events.map((e) => e.version)).toEqual([4, 5, 6, 7, 1, 2]);
      expect(events.map((e) => `${e.epoch}:${e.version}`)).toEqual([`${EPOCH}:4`, `${EPOCH}:5`, `${EPOCH}:6`, `${EPOCH}:7`, `${reset}:1`, `${reset}:2`]);
      expect(events.map((e) => e.id)).toEqual(events.map((e) => `${e.epoch}:${e.version}`));
    } finally {
      client.close();
    }
  });
});

describe("resuming with Last-Event-ID", () => {
  const RESET = EPOCH + 3_600_000;

  beforeAll(async () => {
    await setCurrent(aggregate("resume1", RESET, 2));
    // A community whose state was stored before epochs: epoch 0.
    await setCurrent(aggregate("resume0", 0, 5));
  });

  it("`0`, and an id in neither form, get the current value at once; another writer's value (the prototype's, without a version) is never sent", async () => {
    // What the prototype's aggregator writes: no version, no epoch. It is not ecwatch's, so it is
    // not sent as if it were (issue 18): the first event is the aggregate ecwatch announces.
    await cache.putLatest([{ communityId: "proto1", json: JSON.stringify({ genW: 5200, conW: 3100, measuredAt: "2026-11-22T12:00:00Z" }) }]);
    const clients = [new Follower("resume1", "0"), new Follower("resume1", "1:2:3"), new Follower("resume1", "v7; drop")];
    const onForeign = [new Follower("proto1", "0"), new Follower("proto1")];
    try {
      const first = await Promise.all(clients.map(async (client) => (await client.receives(1))[0]!));
      expect(first).toMatchObject([{ version: 2 }, { version: 2 }, { version: 2 }]);
      expect(first.map((e) => e.id)).toEqual([`${RESET}:2`, `${RESET}:2`, `${RESET}:2`]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(onForeign.map((client) => client.events.length)).toEqual([0, 0]);
      await publish(aggregate("proto1", EPOCH, 1));
      for (const client of onForeign) expect((await client.receives(1))[0]).toMatchObject({ id: `${EPOCH}:1`, version: 1 });
    } finally {
      [...clients, ...onForeign].forEach((client) => client.close());
    }
  });

  it("an old numeric id gets the current value unless that is epoch 0 at that very version", async () => {
    const reset = new Follower("resume1", "2");
    const lower = new Follower("resume0", "9");
    const same = await resumed("resume0", "5");
    try {
      // Version 2 of another epoch: the state was reset since the id was given.
      expect((await reset.receives(1))[0]).toMatchObject({ epoch: RESET, version: 2 });
      // A current version below the id: a reset before epochs.
      expect((await lower.receives(1))[0]).toMatchObject({ epoch: 0, version: 5 });
      // The very value the client has: not again; the next one is its first event.
      await publish(aggregate("resume0", 0, 6));
      expect((await same.receives(1))[0]).toMatchObject({ epoch: 0, version: 6 });
    } finally {
      [reset, lower, same].forEach((client) => client.close());
    }
  });

  it("an <epoch>:<version> id gets the current value unless it is not newer than the id", async () => {
    const behind = new Follower("resume1", `${EPOCH}:7`);
    const current = await resumed("resume1", `${RESET}:2`);
    const ahead = await resumed("resume1", `${RESET}:5`);
    try {
      // From before the reset: the current value, whatever the versions.
      expect((await behind.receives(1))[0]).toMatchObject({ id: `${RESET}:2`, epoch: RESET, version: 2 });
      await publish(aggregate("resume1", RESET, 3));
      // The client has the current value: the next change is its first event.
      expect((await current.receives(1))[0]).toMatchObject({ id: `${RESET}:3`, version: 3 });
      // Further on than this API (another instance was ahead): nothing older than the id.
      await publish(aggregate("resume1", RESET, 6));
      expect((await ahead.receives(1))[0]).toMatchObject({ id: `${RESET}:6`, version: 6 });
    } finally {
      [behind, current, ahead].forEach((client) => client.close());
    }
  });
});

describe("a real reset", () => {
  it("wiping the state as `ecwatch reset` does gives the next aggregate a larger epoch, which a connected client follows", async () => {
    const post = (genW: number, second: number) =>
      fetch(`${pipeline.api.url}/communities/`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ communityId: "wiped1", genW, conW: 100, measuredAt: new Date(Date.UTC(2026, 10, 22, 12, 0, second)).toISOString() }),
      });
    expect((await post(1_000, 1)).status).toBe(200);
    expect((await post(2_000, 2)).status).toBe(200);
    const client = new Follower("wiped1");
    try {
      const before = (await eventually(async () => (client.events.at(-1)?.version === 2 ? client.events.at(-1) : undefined), 10_000, "version 2"))!;
      expect(before.epoch).toBeGreaterThan(0);

      await pipeline.aggregation.stop();
      await wipeEverything(pipeline.stack.natsUrl, pipeline.stack.redisUrl);
      pipeline.aggregation = await startAggregation(pipeline.stack.natsUrl, pipeline.stack.redisUrl, { staleAfterMs: 30_000 });
      expect((await post(500, 1)).status).toBe(200);

      const after = await eventually(async () => client.events.find((e) => e.epoch !== before.epoch), 10_000, "the reset's first aggregate");
      expect(after.epoch).toBeGreaterThan(before.epoch);
      expect(after.version).toBe(1);
      expect(client.events.at(-1)).toEqual(after);
    } finally {
      client.close();
    }
  });
});

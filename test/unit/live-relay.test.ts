import { describe, expect, it, vi } from "vitest";
import type { Aggregate } from "../../src/domain/aggregate.js";
import type { FollowStatus } from "../../src/domain/follow-status.js";
import type { WatchDelivery } from "../../src/wear-emu/data-layer.js";
import { DEFAULT_ENERGY } from "../../src/wear-emu/energy-model.js";
import { LiveRelay } from "../../src/wear-emu/live-relay.js";
import { energyAwarePolicy, prototypePolicy } from "../../src/wear-emu/policy.js";

const T = Date.UTC(2026, 10, 22, 12);
const aggregate = (netW: number, atMs: number): Aggregate => ({
  communityId: "community1",
  genW: 5_000,
  conW: 5_000 - netW,
  netW,
  meters: 40,
  stale: 0,
  measuredAt: new Date(atMs).toISOString(),
  aggregatedAt: new Date(atMs).toISOString(),
  version: 1,
  epoch: 1795354800000,
});

function relayWith(makePolicy: () => ReturnType<typeof prototypePolicy>, glances: Array<{ startMs: number; endMs: number }> | undefined, communities = ["community1"]) {
  vi.useFakeTimers({ now: T });
  const pushers = new Map<string, (a: Aggregate) => void>();
  const delivered: WatchDelivery[] = [];
  const relay = new LiveRelay({
    communities,
    policyFor: makePolicy,
    batchDelayMs: 5 * 60_000,
    glances,
    energy: DEFAULT_ENERGY,
    feed: {
      follow: (communityId, onAggregate, onStatus: (s: FollowStatus) => void) => {
        pushers.set(communityId, onAggregate);
        onStatus({ state: "live" });
        return { close: () => undefined };
      },
      latest: async () => aggregate(999, Date.now()),
    },
    onDelivery: (delivery) => delivered.push(delivery),
  });
  relay.start();
  return {
    relay,
    delivered,
    push: (netW: number, communityId = "community1") => pushers.get(communityId)!({ ...aggregate(netW, Date.now()), communityId }),
  };
}

describe("the live relay", () => {
  it("with the prototype's policy, every update reaches the watch at once", async () => {
    const { relay, push } = relayWith(prototypePolicy, []);
    for (let i = 0; i < 10; i += 1) {
      push(1_000 + i);
      await vi.advanceTimersByTimeAsync(1_000);
    }
    const snapshot = relay.snapshot();
    expect(snapshot.watch.value).toBe(1_009);
    expect(snapshot.log.length).toBe(8);
    expect(snapshot.energy.wakeupsPerHour).toBeGreaterThan(3_000);
    relay.stop();
    vi.useRealTimers();
  });

  it("with the energy-aware policy, a hidden watch is not woken, and a glance brings the value at once", async () => {
    const glanceAt = T + 20_000;
    const { relay, push } = relayWith(() => energyAwarePolicy({ idleIntervalMs: 15 * 60_000, batchDelayMs: 5 * 60_000, coalesceMs: 500, alwaysOn: false }), [{ startMs: glanceAt, endMs: glanceAt + 6_000 }]);
    push(2_000); // the first value goes out (non-urgent) as the first refresh
    await vi.advanceTimersByTimeAsync(1_000);
    for (let i = 0; i < 15; i += 1) {
      push(2_100 + i * 50);
      await vi.advanceTimersByTimeAsync(1_000);
    }
    expect(relay.snapshot().watch.value).toBeUndefined(); // still waiting in the Data Layer's batch
    await vi.advanceTimersByTimeAsync(glanceAt - Date.now() + 1_000);
    const looking = relay.snapshot();
    expect(looking.looking).toBe(true);
    expect(looking.watch.value).toBe(2_100 + 14 * 50);
    relay.stop();
    vi.useRealTimers();
  });
});

describe("several communities", () => {
  it("relays each; the face shows the first at /net_energy, the others go to /net_energy/<id>", async () => {
    const { relay, push } = relayWith(prototypePolicy, [], ["community1", "community2"]);
    push(1_000, "community1");
    push(-2_000, "community2");
    await vi.advanceTimersByTimeAsync(1_000);
    const snapshot = relay.snapshot();
    expect(snapshot.watch.value).toBe(1_000);
    expect(snapshot.log.map((d) => d.path)).toEqual(["/net_energy", "/net_energy/community2"]);
    relay.stop();
    vi.useRealTimers();
  });
});

describe("driven by a real watch (no glance pattern)", () => {
  const energyAware = () => energyAwarePolicy({ idleIntervalMs: 15 * 60_000, batchDelayMs: 5 * 60_000, coalesceMs: 500, alwaysOn: false });

  it("the watch's open and close messages set what the policy sees; every delivery goes to onDelivery too", async () => {
    const { relay, push, delivered } = relayWith(energyAware, undefined);
    push(2_000);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(relay.snapshot().looking).toBe(false);
    await relay.setLooking(true);
    expect(relay.snapshot().looking).toBe(true);
    expect(delivered.map((d) => [d.path, d.data?.netEnergy, d.urgent])).toEqual([["/net_energy", 2_000, true]]);
    push(2_500);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(delivered.at(-1)?.data?.netEnergy).toBe(2_500);
    await relay.setLooking(false);
    push(2_700);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(delivered).toHaveLength(2); // hidden: no wake-up for a change nobody sees
    relay.stop();
    vi.useRealTimers();
  });

  it("answers /request_latest_energy with a message even when the watch already holds the item", async () => {
    const { relay, push, delivered } = relayWith(energyAware, undefined);
    push(1_500);
    await relay.setLooking(true);
    await relay.answerRequest();
    expect(delivered.map((d) => d.kind)).toEqual(["data", "message"]);
    const answer = delivered[1]!;
    expect(answer.path).toBe("/net_energy");
    expect(JSON.parse(new TextDecoder().decode(answer.payload))).toEqual({ netEnergy: 1_500, measuredAt: T });
    expect(relay.snapshot().watch.value).toBe(1_500);
    await relay.answerRequest("unknown-community");
    expect(delivered).toHaveLength(2);
    relay.stop();
    vi.useRealTimers();
  });

  it("a request with nothing cached, or older than a minute, GETs the latest first", async () => {
    const { relay, delivered } = relayWith(energyAware, undefined);
    await relay.answerRequest();
    expect(JSON.parse(new TextDecoder().decode(delivered.at(-1)!.payload)).netEnergy).toBe(999);
    relay.stop();
    vi.useRealTimers();
  });

  it("while the watch is unreachable items wait, and go out when it is back", async () => {
    const { relay, push, delivered } = relayWith(prototypePolicy, undefined);
    relay.setWatchConnected(false);
    push(1_000);
    push(1_100);
    await relay.answerRequest(); // a message to an unreachable watch is not sent
    expect(delivered).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(5_000);
    relay.setWatchConnected(true);
    expect(delivered.map((d) => d.data?.netEnergy)).toEqual([1_100]);
    relay.stop();
    vi.useRealTimers();
  });
});

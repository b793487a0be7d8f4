import { describe, expect, it, vi } from "vitest";
import type { Aggregate } from "../../src/domain/aggregate.js";
import type { FollowStatus } from "../../src/tail/follow.js";
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
});

function relayWith(makePolicy: () => ReturnType<typeof prototypePolicy>, glances: Array<{ startMs: number; endMs: number }>, communities = ["community1"]) {
  vi.useFakeTimers({ now: T });
  const pushers = new Map<string, (a: Aggregate) => void>();
  const relay = new LiveRelay({
    communities,
    policyFor: makePolicy,
    batchDelayMs: 5 * 60_000,
    glances,
    energy: DEFAULT_ENERGY,
    follow: (communityId, onAggregate, onStatus: (s: FollowStatus) => void) => {
      pushers.set(communityId, onAggregate);
      onStatus({ state: "live" });
      return { close: () => undefined };
    },
    fetchLatest: async () => aggregate(999, Date.now()),
  });
  relay.start();
  return {
    relay,
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

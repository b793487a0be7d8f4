import { describe, expect, it } from "vitest";
import type { Aggregate } from "../../src/domain/aggregate.js";
import type { FollowStatus } from "../../src/domain/follow-status.js";
import type { WatchDelivery } from "../../src/wear-emu/data-layer.js";
import { DEFAULT_ENERGY } from "../../src/wear-emu/energy-model.js";
import { LiveRelay } from "../../src/wear-emu/live-relay.js";
import { energyAwarePolicy, prototypePolicy } from "../../src/wear-emu/policy.js";
import { WRIST_GLANCE_MS } from "../../src/wear-emu/wrist.js";
import { FakeClock } from "../helpers/fake-clock.js";

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

/** A real clock crosses millisecond boundaries between two reads: this one moves 1 ms at every read. */
class TickingClock extends FakeClock {
  private reads = 0;
  override now(): number {
    this.reads += 1;
    return super.now() + this.reads;
  }
}

function relayWith(
  makePolicy: () => ReturnType<typeof prototypePolicy>,
  glances: Array<{ startMs: number; endMs: number }> | undefined,
  communities = ["community1"],
  clock: FakeClock = new FakeClock(T),
) {
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
      latest: async () => aggregate(999, clock.now()),
    },
    onDelivery: (delivery) => delivered.push(delivery),
    clock,
  });
  relay.start();
  return {
    relay,
    delivered,
    clock,
    push: (netW: number, communityId = "community1") => pushers.get(communityId)!({ ...aggregate(netW, clock.now()), communityId }),
    /** Moves the clock, and lets the relay's awaits (a GET of the latest) settle. */
    advance: async (ms: number) => {
      clock.advance(ms);
      await settle();
    },
  };
}

/** Lets pending promises run; no time passes. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("the live relay", () => {
  it("with the prototype's policy, every update reaches the watch at once", async () => {
    const { relay, push, advance, clock } = relayWith(prototypePolicy, []);
    for (let i = 0; i < 10; i += 1) {
      push(1_000 + i);
      await advance(1_000);
    }
    const snapshot = relay.snapshot();
    expect(snapshot.held?.netW).toBe(1_009);
    expect(snapshot.log.length).toBe(8);
    expect(snapshot.energy.wakeupsPerHour).toBeGreaterThan(3_000);
    relay.stop();
  });

  it("every update reaches the watch although the clock ticks between the relay's reads of it", async () => {
    const { relay, push, advance } = relayWith(prototypePolicy, [], ["community1"], new TickingClock(T));
    for (let i = 0; i < 5; i += 1) {
      push(2_000 + i);
      await advance(1_000);
    }
    const snapshot = relay.snapshot();
    expect(snapshot.held?.netW).toBe(2_004);
    expect(snapshot.log.map((entry) => entry.wakeup)).toEqual([1, 2, 3, 4, 5]);
    relay.stop();
  });

  it("with the energy-aware policy, a hidden watch is not woken, and a glance brings the value at once", async () => {
    const glanceAt = T + 20_000;
    const { relay, push, advance, clock } = relayWith(() => energyAwarePolicy({ idleIntervalMs: 15 * 60_000, batchDelayMs: 5 * 60_000, coalesceMs: 500, alwaysOn: false }), [{ startMs: glanceAt, endMs: glanceAt + 6_000 }]);
    push(2_000); // the first value goes out (non-urgent) as the first refresh
    await advance(1_000);
    for (let i = 0; i < 15; i += 1) {
      push(2_100 + i * 50);
      await advance(1_000);
    }
    expect(relay.snapshot().held?.netW).toBeUndefined(); // still waiting in the Data Layer's batch
    await advance(glanceAt - clock.now() + 1_000);
    const looking = relay.snapshot();
    expect(looking.looking).toBe(true);
    expect(looking.held?.netW).toBe(2_100 + 14 * 50);
    relay.stop();
  });
});

describe("several communities", () => {
  it("relays each; the face shows the first at /net_energy, the others go to /net_energy/<id>", async () => {
    const { relay, push, advance, clock } = relayWith(prototypePolicy, [], ["community1", "community2"]);
    push(1_000, "community1");
    push(-2_000, "community2");
    await advance(1_000);
    const snapshot = relay.snapshot();
    expect(snapshot.held?.netW).toBe(1_000);
    expect(snapshot.log.map((d) => d.path)).toEqual(["/net_energy", "/net_energy/community2"]);
    relay.stop();
  });
});

describe("driven by a real watch (no glance pattern)", () => {
  const energyAware = () => energyAwarePolicy({ idleIntervalMs: 15 * 60_000, batchDelayMs: 5 * 60_000, coalesceMs: 500, alwaysOn: false });

  it("the watch's open and close messages set what the policy sees; every delivery goes to onDelivery too", async () => {
    const { relay, push, delivered, advance } = relayWith(energyAware, undefined);
    push(2_000);
    await advance(2_000);
    expect(relay.snapshot().looking).toBe(false);
    await relay.setLooking(true);
    expect(relay.snapshot().looking).toBe(true);
    expect(delivered.map((d) => [d.path, d.data?.netEnergy, d.urgent])).toEqual([["/net_energy", 2_000, true]]);
    push(2_500);
    await advance(1_000);
    expect(delivered.at(-1)?.data?.netEnergy).toBe(2_500);
    await relay.setLooking(false);
    push(2_700);
    await advance(60_000);
    expect(delivered).toHaveLength(2); // hidden: no wake-up for a change nobody sees
    relay.stop();
  });

  it("answers /request_latest_energy with a message even when the watch already holds the item", async () => {
    const { relay, push, delivered, advance } = relayWith(energyAware, undefined);
    push(1_500);
    await relay.setLooking(true);
    await relay.answerRequest();
    expect(delivered.map((d) => d.kind)).toEqual(["data", "message"]);
    const answer = delivered[1]!;
    expect(answer.path).toBe("/net_energy");
    expect(JSON.parse(new TextDecoder().decode(answer.payload))).toEqual({ netEnergy: 1_500, measuredAt: T });
    expect(relay.snapshot().held?.netW).toBe(1_500);
    await relay.answerRequest("unknown-community");
    expect(delivered).toHaveLength(2);
    relay.stop();
  });

  it("a request with nothing cached, or older than a minute, GETs the latest first", async () => {
    const { relay, delivered } = relayWith(energyAware, undefined);
    await relay.answerRequest();
    expect(JSON.parse(new TextDecoder().decode(delivered.at(-1)!.payload)).netEnergy).toBe(999);
    relay.stop();
  });

  it("while the watch is unreachable items wait, and go out when it is back", async () => {
    const { relay, push, delivered, advance } = relayWith(prototypePolicy, undefined);
    relay.setWatchConnected(false);
    push(1_000);
    push(1_100);
    await relay.answerRequest(); // a message to an unreachable watch is not sent
    expect(delivered).toHaveLength(0);
    await advance(5_000);
    relay.setWatchConnected(true);
    expect(delivered.map((d) => d.data?.netEnergy)).toEqual([1_100]);
    relay.stop();
  });
});

describe("the wrist raised from the live view (space)", () => {
  const energyAware = () => energyAwarePolicy({ idleIntervalMs: 15 * 60_000, batchDelayMs: 5 * 60_000, coalesceMs: 500, alwaysOn: false });

  it("wakes the watch with the latest value, urgent, and the log says so with its bytes and wake-up", async () => {
    const { relay, push, advance } = relayWith(energyAware, []);
    push(2_000); // hidden: the first value waits in the Data Layer's batch
    push(2_200); // changes nobody sees: held back, one line for the run
    push(2_340);
    await advance(1_000);
    expect(relay.snapshot().held).toBeUndefined();
    expect(relay.snapshot().log.map((e) => [e.what, e.netW, e.count, e.wakeup, e.dueMs])).toEqual([
      ["batched", 2_000, 1, undefined, T + 5 * 60_000],
      ["held", 2_340, 2, undefined, undefined],
    ]);

    await relay.toggleWrist();
    const raised = relay.snapshot();
    expect(raised.looking).toBe(true);
    expect(raised.held).toEqual({ netW: 2_340, measuredAtMs: T, receivedAtMs: T + 1_000 });
    const wake = raised.log.at(-1)!;
    expect(wake).toMatchObject({ what: "urgent", path: "/net_energy", netW: 2_340, wakeup: 1, unchanged: false });
    expect(wake.bytes).toBeGreaterThan(40);
    relay.stop();
  });

  it("a raise sends the value still waiting in the batch at once (the first value of a run)", async () => {
    const { relay, push } = relayWith(energyAware, []);
    push(1_750);
    await relay.toggleWrist();
    expect(relay.snapshot().held?.netW).toBe(1_750);
    expect(relay.snapshot().log.at(-1)).toMatchObject({ what: "urgent", netW: 1_750, unchanged: false, wakeup: 1 });
    relay.stop();
  });

  it("the glance ends by itself after WRIST_GLANCE_MS, or earlier on a second press; a change after it wakes nobody", async () => {
    const { relay, push, advance, delivered } = relayWith(energyAware, []);
    push(1_000);
    await relay.toggleWrist();
    await advance(WRIST_GLANCE_MS - 1);
    expect(relay.snapshot().looking).toBe(true);
    expect(relay.snapshot().wristRemainingMs).toBe(1);
    await advance(1);
    expect(relay.snapshot().looking).toBe(false);
    push(1_500);
    await advance(60_000);
    expect(delivered.map((d) => d.data?.netEnergy)).toEqual([1_000]);

    await relay.toggleWrist();
    expect(delivered.map((d) => d.data?.netEnergy)).toEqual([1_000, 1_500]);
    await advance(2_000);
    await relay.toggleWrist();
    expect(relay.snapshot().looking).toBe(false);
    expect(relay.snapshot().wristRemainingMs).toBeUndefined();
    relay.stop();
  });

  it("logs an unchanged put, and a batch that falls due as a wake-up of its own", async () => {
    const { relay, push, advance } = relayWith(energyAware, []);
    push(800);
    await relay.toggleWrist(); // urgent 800: wake-up 1
    await relay.toggleWrist(); // lowered
    await relay.toggleWrist(); // raised again: the same item, which the watch holds
    expect(relay.snapshot().log.at(-1)).toMatchObject({ what: "urgent", netW: 800, unchanged: true, wakeup: undefined, bytes: 0 });
    await relay.toggleWrist();
    push(-1_200); // a sign flip while hidden: batched
    await advance(5 * 60_000);
    const log = relay.snapshot().log;
    expect(log.at(-2)).toMatchObject({ what: "batched", netW: -1_200, dueMs: T + 5 * 60_000 });
    expect(log.at(-1)).toMatchObject({ what: "batch", netW: -1_200, atMs: T + 5 * 60_000, wakeup: 2 });
    expect(relay.snapshot().held?.netW).toBe(-1_200);
    relay.stop();
  });
});

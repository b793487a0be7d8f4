import { describe, expect, it } from "vitest";
import { NET_ENERGY_PATH, type Put, energyAwarePolicy, prototypePolicy } from "../../src/wear-emu/policy.js";

const T = Date.UTC(2026, 5, 21, 12);
const options = { idleIntervalMs: 15 * 60_000, batchDelayMs: 5 * 60_000, coalesceMs: 500, alwaysOn: false };

describe("the prototype's policy", () => {
  it("puts every update urgently with a unique time, so each one wakes the watch", () => {
    const policy = prototypePolicy();
    const first = policy.onUpdate(T, 1_000, T);
    const same = policy.onUpdate(T + 1_000, 1_000, T);
    expect(first).toEqual([{ path: NET_ENERGY_PATH, map: { netEnergy: 1_000, measuredAt: T, time: T }, urgent: true }]);
    expect(same[0]!.map.time).toBe(T + 1_000);
    expect(same[0]!.urgent).toBe(true);
  });

  it("answers the watch's request on resume from its cache", () => {
    const policy = prototypePolicy();
    policy.onUpdate(T, -2_500, T);
    expect(policy.onVisibility(T + 10_000, true)).toEqual([{ path: NET_ENERGY_PATH, map: { netEnergy: -2_500, measuredAt: T, time: T + 10_000 }, urgent: true }]);
  });
});

describe("the energy-aware policy", () => {
  const run = (policy: ReturnType<typeof energyAwarePolicy>, fromMs: number, toMs: number, netW: (atMs: number) => number): Put[] => {
    const puts: Put[] = [];
    for (let at = fromMs; at < toMs; at += 1_000) puts.push(...policy.onUpdate(at, netW(at), at), ...policy.onTick(at));
    return puts;
  };

  it("sends nothing urgent while the app is not visible", () => {
    const policy = energyAwarePolicy(options);
    const puts = run(policy, T, T + 3_600_000, (at) => 2_000 + ((at / 1000) % 7) * 100);
    expect(puts.length).toBeGreaterThan(0);
    expect(puts.every((put) => !put.urgent)).toBe(true);
  });

  it("refreshes a hidden watch early enough that a batched item arrives within the idle interval", () => {
    const policy = energyAwarePolicy(options);
    const puts: number[] = [];
    for (let at = T; at < T + 3_600_000; at += 1_000) if (policy.onUpdate(at, 3_000 + (at % 3) * 10, at).length) puts.push(at);
    const gaps = puts.slice(1).map((at, i) => at - puts[i]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(options.idleIntervalMs - options.batchDelayMs);
    expect(puts.length).toBeLessThanOrEqual(Math.ceil(3_600_000 / (options.idleIntervalMs - options.batchDelayMs)) + 1);
  });

  it("always sends a sign flip, even while hidden", () => {
    const policy = energyAwarePolicy(options);
    policy.onUpdate(T, 500, T);
    expect(policy.onUpdate(T + 1_000, 600, T + 1_000)).toEqual([]);
    const flip = policy.onUpdate(T + 2_000, -300, T + 2_000);
    expect(flip).toHaveLength(1);
    expect(flip[0]!.map.netEnergy).toBe(-300);
    expect(flip[0]!.urgent).toBe(false);
  });

  it("answers the glance start at once, urgently, with the latest value", () => {
    const policy = energyAwarePolicy(options);
    policy.onUpdate(T, 1_234, T);
    policy.onUpdate(T + 1_000, 1_567, T + 1_000);
    expect(policy.onVisibility(T + 1_400, true)).toEqual([{ path: NET_ENERGY_PATH, map: { netEnergy: 1_567, measuredAt: T + 1_000 }, urgent: true }]);
  });

  it("sends every change of the displayed value while visible, and nothing for changes below one display step", () => {
    const policy = energyAwarePolicy(options);
    policy.onUpdate(T, 1_000, T);
    policy.onVisibility(T + 100, true);
    expect(policy.onUpdate(T + 1_000, 1_003, T + 1_000)).toEqual([]); // still shows 1.00 kW
    const changed = policy.onUpdate(T + 2_000, 1_040, T + 2_000);
    expect(changed).toHaveLength(1);
    expect(changed[0]!.urgent).toBe(true);
  });

  it("coalesces a burst while visible into its newest value", () => {
    const policy = energyAwarePolicy(options);
    policy.onUpdate(T, 1_000, T);
    policy.onVisibility(T, true);
    expect(policy.onUpdate(T + 100, 2_000, T + 100)).toEqual([]);
    expect(policy.onUpdate(T + 200, 3_000, T + 200)).toEqual([]);
    const due = policy.onTick(T + 500);
    expect(due.map((put) => put.map.netEnergy)).toEqual([3_000]);
  });

  it("with --always-on treats the watch as visible", () => {
    const policy = energyAwarePolicy({ ...options, alwaysOn: true });
    policy.onUpdate(T, 1_000, T);
    const next = policy.onUpdate(T + 1_000, 2_000, T + 1_000);
    expect(next).toHaveLength(1);
    expect(next[0]!.urgent).toBe(true);
    policy.onVisibility(T + 2_000, false);
    expect(policy.onUpdate(T + 3_000, 3_000, T + 3_000)[0]?.urgent).toBe(true);
  });
});

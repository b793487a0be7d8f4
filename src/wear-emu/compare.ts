import { DataLayer } from "./data-layer.js";
import type { CommunityTrace } from "./community-trace.js";
import { DEFAULT_ENERGY, type EnergyParams, energyReport } from "./energy-model.js";
import { type Glance, screenOnMs } from "./glances.js";
import { type EnergyAwareOptions, type Put, type RelayPolicy, energyAwarePolicy, prototypePolicy } from "./policy.js";
import { type StalenessReport, stalenessReport } from "./staleness.js";
import { EmulatedWatch } from "./watch.js";

/** What one policy cost the watch over a run, and how current it kept the display. */
export interface PolicyResult {
  readonly wakeupsPerHour: number;
  readonly bytesPerHour: number;
  readonly mAhPerDay: number;
  readonly batteryPercentPerDay: number;
  readonly staleness: StalenessReport;
}

export interface RunOptions {
  readonly trace: CommunityTrace;
  readonly glances: readonly Glance[];
  readonly policy: RelayPolicy;
  /** How long the Data Layer may hold a non-urgent item. */
  readonly batchDelayMs: number;
  readonly energy?: EnergyParams;
}

const round = (value: number, decimals = 1): number => Math.round(value * 10 ** decimals) / 10 ** decimals;

/**
 * Replays a community trace through a relay policy, the Data Layer model and the emulated
 * watch in simulated time, with the user looking at the watch during the glances.
 */
export function runPolicy(options: RunOptions): PolicyResult {
  const { trace, glances, policy } = options;
  const dataLayer = new DataLayer({ batchDelayMs: options.batchDelayMs });
  const watch = new EmulatedWatch();
  const wakeups: Array<{ atMs: number; bytes: number }> = [];
  const truth: Array<{ atMs: number; value: number }> = [];
  const transitions = glances.flatMap((g) => [{ atMs: g.startMs, visible: true }, { atMs: g.endMs, visible: false }]).sort((a, b) => a.atMs - b.atMs);
  let next = 0;

  const perform = (atMs: number, puts: readonly Put[]): void => {
    for (const put of puts) dataLayer.putDataItem(atMs, put.path, put.map, { urgent: put.urgent });
    const delivered = dataLayer.drain(atMs);
    for (const delivery of delivered) watch.receive(delivery);
    if (delivered.length) wakeups.push({ atMs, bytes: delivered.reduce((sum, d) => sum + d.bytes, 0) });
  };

  for (let i = 0; i < trace.netW.length; i += 1) {
    const atMs = trace.startMs + i * trace.stepMs;
    // The watch opens (and asks for the latest value) or closes at its own moment, between updates.
    for (; next < transitions.length && transitions[next]!.atMs < atMs; next += 1) {
      const { atMs: at, visible } = transitions[next]!;
      perform(at, [...policy.onVisibility(at, visible), ...policy.onTick(at)]);
    }
    const netW = trace.netW[i]!;
    truth.push({ atMs, value: netW });
    perform(atMs, [...policy.onUpdate(atMs, netW, atMs), ...policy.onTick(atMs)]);
  }

  const endMs = trace.startMs + trace.netW.length * trace.stepMs;
  const durationMs = endMs - trace.startMs;
  const energy = energyReport({ durationMs, wakeups, screenOnMs: screenOnMs(glances) }, options.energy ?? DEFAULT_ENERGY);
  const staleness = stalenessReport({ truth, displayed: watch.displayed, refreshes: watch.refreshes, glances, startMs: trace.startMs, endMs });
  return {
    wakeupsPerHour: round(energy.wakeupsPerHour),
    bytesPerHour: round(energy.bytesPerHour, 0),
    mAhPerDay: round(energy.mAhPerDay, 2),
    batteryPercentPerDay: round(energy.batteryPercentPerDay, 2),
    staleness,
  };
}

export interface Comparison {
  readonly prototype: PolicyResult;
  readonly energyAware: PolicyResult;
  /** How many times fewer wake-ups the energy-aware policy needs. */
  readonly wakeupRatio: number;
}

/** The prototype's policy and the energy-aware one over the same trace and glances. */
export function comparePolicies(trace: CommunityTrace, glances: readonly Glance[], options: EnergyAwareOptions, energy?: EnergyParams): Comparison {
  const common = { trace, glances, batchDelayMs: options.batchDelayMs, energy };
  const prototype = runPolicy({ ...common, policy: prototypePolicy() });
  const energyAware = runPolicy({ ...common, policy: energyAwarePolicy(options) });
  return { prototype, energyAware, wakeupRatio: round(prototype.wakeupsPerHour / Math.max(energyAware.wakeupsPerHour, 1e-9)) };
}

import type { DataMap } from "./data-layer.js";

/** The data item path the watch app listens on, and the message it sends on resume (the prototype's). */
export const NET_ENERGY_PATH = "/net_energy";
export const REQUEST_LATEST_PATH = "/request_latest_energy";
/** The watch shows kW with two decimals: changes below 10 W cannot be seen. */
export const DISPLAY_STEP_W = 10;

export const POLICIES = ["prototype", "energy-aware"] as const;
export type PolicyName = (typeof POLICIES)[number];

/** A put the relay makes on the Data Layer. */
export interface Put {
  readonly path: string;
  readonly map: DataMap;
  readonly urgent: boolean;
}

/** The relay's decisions, pure: the caller feeds events and performs the puts returned. */
export interface RelayPolicy {
  /** A new aggregate of the community arrived. */
  onUpdate(atMs: number, netW: number, measuredAtMs: number): Put[];
  /** The watch app opened (it sends /request_latest_energy on resume) or closed. */
  onVisibility(atMs: number, visible: boolean): Put[];
  /** Time passed: puts that fell due (coalesced changes, idle refreshes). */
  onTick(atMs: number): Put[];
}

export interface EnergyAwareOptions {
  /** While the app is not visible, refresh the watch at least this often. Default 15 min. */
  readonly idleIntervalMs: number;
  /** How long the Data Layer may hold a non-urgent item (it is sent early enough to arrive in time). */
  readonly batchDelayMs: number;
  /** While visible, at most one put per this long; a burst goes out as its newest value. Default 500 ms. */
  readonly coalesceMs: number;
  /** Treat the watch as always visible (an always-on display). */
  readonly alwaysOn: boolean;
}

interface Latest {
  readonly netW: number;
  readonly measuredAtMs: number;
}

/** The prototype's item: `time` makes every put unique, so every update reaches the watch. */
function prototypeItem(latest: Latest, atMs: number): Put {
  return { path: NET_ENERGY_PATH, map: { netEnergy: Math.round(latest.netW), measuredAt: latest.measuredAtMs, time: atMs }, urgent: true };
}

/**
 * The prototype's phone app: every update becomes an urgent put with a forced-unique `time`,
 * and the watch's request on resume is answered from the relay's cache (always fresh here).
 */
export function prototypePolicy(): RelayPolicy {
  let latest: Latest | undefined;
  return {
    onUpdate(atMs, netW, measuredAtMs) {
      latest = { netW, measuredAtMs };
      return [prototypeItem(latest, atMs)];
    },
    onVisibility(atMs, visible) {
      return visible && latest ? [prototypeItem(latest, atMs)] : [];
    },
    onTick() {
      return [];
    },
  };
}

const displayed = (netW: number): number => Math.round(netW / DISPLAY_STEP_W) * DISPLAY_STEP_W;

/**
 * Do not wake the watch for what nobody sees. While the app is visible, every change of the
 * displayed value goes out at once, urgent (at most one per `coalesceMs`, the newest).
 * While it is not, only non-urgent items: a sign flip (surplus ↔ deficit, what a tile or
 * complication shows), and a refresh sent `idleIntervalMs − batchDelayMs` after the previous
 * one, so the watch's value is never older than the idle interval. No forced-unique field:
 * an item the watch already has costs nothing.
 */
export function energyAwarePolicy(options: EnergyAwareOptions): RelayPolicy {
  let latest: Latest | undefined;
  let visible = options.alwaysOn;
  /** What the watch was last sent, and when. */
  let sent: { displayedW: number; atMs: number } | undefined;
  let pendingSince: number | undefined;
  let lastPutMs = Number.NEGATIVE_INFINITY;

  /** Every put refreshes the watch, so each one restarts the idle clock. */
  const item = (urgent: boolean, atMs: number): Put => {
    sent = { displayedW: displayed(latest!.netW), atMs };
    pendingSince = undefined;
    lastPutMs = atMs;
    return { path: NET_ENERGY_PATH, map: { netEnergy: Math.round(latest!.netW), measuredAt: latest!.measuredAtMs }, urgent };
  };
  const idleRefreshDue = (atMs: number): boolean => atMs - lastPutMs >= Math.max(0, options.idleIntervalMs - options.batchDelayMs);

  return {
    onUpdate(atMs, netW, measuredAtMs) {
      const flipped = latest !== undefined && Math.sign(displayed(netW)) !== Math.sign(displayed(latest.netW));
      latest = { netW, measuredAtMs };
      if (visible) {
        if (sent?.displayedW === displayed(netW)) return [];
        if (sent && atMs - sent.atMs < options.coalesceMs) {
          pendingSince ??= atMs;
          return [];
        }
        return [item(true, atMs)];
      }
      if (flipped || idleRefreshDue(atMs)) return [item(false, atMs)];
      return [];
    },
    onVisibility(atMs, nowVisible) {
      visible = nowVisible || options.alwaysOn;
      pendingSince = undefined;
      // The watch asks on resume: answer at once with the latest value.
      return nowVisible && latest ? [item(true, atMs)] : [];
    },
    onTick(atMs) {
      if (!latest) return [];
      if (visible) return pendingSince !== undefined && sent && atMs - sent.atMs >= options.coalesceMs ? [item(true, atMs)] : [];
      return idleRefreshDue(atMs) ? [item(false, atMs)] : [];
    },
  };
}

import type { WatchDelivery } from "./data-layer.js";
import { NET_ENERGY_PATH } from "./policy.js";

/** The watch trusts a value for one minute (the prototype's watch app). */
export const WATCH_VALIDITY_MS = 60_000;

/**
 * The emulated watch app: shows the last `/net_energy` it received, and remembers when,
 * for the staleness figures and the 1-minute validity.
 */
export class EmulatedWatch {
  /** The displayed value over time (a step function). */
  readonly displayed: Array<{ atMs: number; value: number }> = [];
  /** When a value arrived. */
  readonly refreshes: number[] = [];
  private current: { netW: number; measuredAtMs: number; receivedAtMs: number } | undefined;

  receive(delivery: WatchDelivery): void {
    if (delivery.kind !== "data" || delivery.path !== NET_ENERGY_PATH || !delivery.data) return;
    const netW = Number(delivery.data.netEnergy);
    const measuredAtMs = Number(delivery.data.measuredAt);
    if (!Number.isFinite(netW)) return;
    this.current = { netW, measuredAtMs, receivedAtMs: delivery.atMs };
    this.refreshes.push(delivery.atMs);
    if (this.displayed.at(-1)?.value !== netW) this.displayed.push({ atMs: delivery.atMs, value: netW });
  }

  get value(): number | undefined {
    return this.current?.netW;
  }

  get measuredAtMs(): number | undefined {
    return this.current?.measuredAtMs;
  }

  /** Whether the value is younger than the watch's one minute of validity. */
  isValid(atMs: number): boolean {
    return this.current !== undefined && atMs - this.current.receivedAtMs <= WATCH_VALIDITY_MS;
  }
}

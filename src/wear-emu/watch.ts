import type { WatchDelivery } from "./data-layer.js";
import { NET_ENERGY_PATH } from "./policy.js";

/** The watch trusts a value for one minute (the prototype's watch app). */
export const WATCH_VALIDITY_MS = 60_000;

/** What the watch holds: the value, when it was measured (its `measuredAt`, if it carried one) and when it arrived. */
export interface HeldValue {
  readonly netW: number;
  readonly measuredAtMs: number | undefined;
  readonly receivedAtMs: number;
}

/**
 * The emulated watch app: shows the last `/net_energy` it received (a data item, or the
 * message that answers its request), and remembers when, for the staleness figures.
 */
export class EmulatedWatch {
  /** The displayed value over time (a step function). */
  readonly displayed: Array<{ atMs: number; value: number }> = [];
  /** When a value arrived. */
  readonly refreshes: number[] = [];
  private current: HeldValue | undefined;

  receive(delivery: WatchDelivery): void {
    if (delivery.path !== NET_ENERGY_PATH) return;
    const fields = deliveredFields(delivery);
    const netW = Number(fields?.netEnergy);
    if (!Number.isFinite(netW)) return;
    const measuredAtMs = Number(fields?.measuredAt);
    this.current = { netW, measuredAtMs: Number.isFinite(measuredAtMs) ? measuredAtMs : undefined, receivedAtMs: delivery.atMs };
    this.refreshes.push(delivery.atMs);
    if (this.displayed.at(-1)?.value !== netW) this.displayed.push({ atMs: delivery.atMs, value: netW });
  }

  get value(): number | undefined {
    return this.current?.netW;
  }

  get held(): HeldValue | undefined {
    return this.current;
  }
}

/** What a delivery carries: a data item's map, or a message's JSON payload; undefined when unreadable. */
export function deliveredFields(delivery: WatchDelivery): { readonly netEnergy?: unknown; readonly measuredAt?: unknown } | undefined {
  if (delivery.data) return delivery.data;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(delivery.payload));
    return typeof parsed === "object" && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

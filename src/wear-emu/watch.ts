import type { WatchDelivery } from "./data-layer.js";
import { NET_ENERGY_PATH } from "./policy.js";

/** The watch trusts a value for one minute (the prototype's watch app). */
export const WATCH_VALIDITY_MS = 60_000;

/**
 * The emulated watch app: shows the last `/net_energy` it received (a data item, or the
 * message that answers its request), and remembers when, for the staleness figures.
 */
export class EmulatedWatch {
  /** The displayed value over time (a step function). */
  readonly displayed: Array<{ atMs: number; value: number }> = [];
  /** When a value arrived. */
  readonly refreshes: number[] = [];
  private current: number | undefined;

  receive(delivery: WatchDelivery): void {
    if (delivery.path !== NET_ENERGY_PATH) return;
    const netW = Number(netEnergyOf(delivery));
    if (!Number.isFinite(netW)) return;
    this.current = netW;
    this.refreshes.push(delivery.atMs);
    if (this.displayed.at(-1)?.value !== netW) this.displayed.push({ atMs: delivery.atMs, value: netW });
  }

  get value(): number | undefined {
    return this.current;
  }
}

function netEnergyOf(delivery: WatchDelivery): unknown {
  if (delivery.data) return delivery.data.netEnergy;
  try {
    return (JSON.parse(new TextDecoder().decode(delivery.payload)) as { netEnergy?: unknown }).netEnergy;
  } catch {
    return undefined;
  }
}

import type { Aggregate } from "../domain/aggregate.js";
import type { FollowStatus } from "../tail/follow.js";
import { DataLayer, type WatchDelivery } from "./data-layer.js";
import { type EnergyParams, type EnergyReport, energyReport } from "./energy-model.js";
import { type Glance, isLooking } from "./glances.js";
import type { RelayPolicy } from "./policy.js";
import { EmulatedWatch, WATCH_VALIDITY_MS } from "./watch.js";

/** What the live view shows. */
export interface RelaySnapshot {
  readonly link: FollowStatus["state"];
  readonly looking: boolean;
  readonly watch: EmulatedWatch;
  readonly truthW: number | undefined;
  readonly log: readonly WatchDelivery[];
  readonly energy: EnergyReport;
  readonly startedAtMs: number;
}

export interface LiveRelayOptions {
  readonly policy: RelayPolicy;
  readonly batchDelayMs: number;
  readonly glances: readonly Glance[];
  readonly energy: EnergyParams;
  /** Follows the community's SSE stream (the API's; a fake in tests). */
  readonly follow: (onAggregate: (aggregate: Aggregate) => void, onStatus: (status: FollowStatus) => void) => { close(): void };
  /** GET of the latest value, for the watch's request when the relay's cache is older than a minute. */
  readonly fetchLatest: () => Promise<Aggregate | undefined>;
  readonly now?: () => number;
}

const LOG_SIZE = 8;
const TICK_MS = 1_000;

/**
 * The phone's role, live: the SSE stream of a community feeds the policy, whose puts go
 * through the Data Layer model to the emulated watch; the glance pattern opens and closes
 * the watch app. Everything the watch receives is counted for the energy figures.
 */
export class LiveRelay {
  private readonly dataLayer: DataLayer;
  private readonly watch = new EmulatedWatch();
  private readonly log: WatchDelivery[] = [];
  private readonly wakeups: Array<{ atMs: number; bytes: number }> = [];
  private latest: { aggregate: Aggregate; receivedAtMs: number } | undefined;
  private link: FollowStatus["state"] = "connecting";
  private looking = false;
  private timer: NodeJS.Timeout | undefined;
  private follower: { close(): void } | undefined;
  private readonly now: () => number;
  private readonly startedAtMs: number;

  constructor(private readonly options: LiveRelayOptions) {
    this.now = options.now ?? Date.now;
    this.startedAtMs = this.now();
    this.dataLayer = new DataLayer({ batchDelayMs: options.batchDelayMs });
  }

  start(): void {
    this.follower = this.options.follow(
      (aggregate) => {
        const atMs = this.now();
        this.latest = { aggregate, receivedAtMs: atMs };
        this.perform(atMs, this.options.policy.onUpdate(atMs, aggregate.netW, Date.parse(aggregate.measuredAt) || atMs));
      },
      (status) => {
        this.link = status.state;
      },
    );
    this.timer = setInterval(() => void this.tick(), TICK_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.follower?.close();
  }

  snapshot(): RelaySnapshot {
    const nowMs = this.now();
    return {
      link: this.link,
      looking: this.looking,
      watch: this.watch,
      truthW: this.latest?.aggregate.netW,
      log: [...this.log],
      energy: energyReport({ durationMs: Math.max(1, nowMs - this.startedAtMs), wakeups: this.wakeups, screenOnMs: 0 }, this.options.energy),
      startedAtMs: this.startedAtMs,
    };
  }

  private async tick(): Promise<void> {
    const atMs = this.now();
    const looking = isLooking(this.options.glances, atMs);
    if (looking !== this.looking) {
      this.looking = looking;
      // The watch asks on resume; the relay answers from its cache if younger than a minute, else GETs.
      if (looking && (!this.latest || atMs - this.latest.receivedAtMs > WATCH_VALIDITY_MS)) {
        const fresh = await this.options.fetchLatest().catch(() => undefined);
        if (fresh) {
          this.latest = { aggregate: fresh, receivedAtMs: atMs };
          this.perform(atMs, this.options.policy.onUpdate(atMs, fresh.netW, Date.parse(fresh.measuredAt) || atMs));
        }
      }
      this.perform(atMs, this.options.policy.onVisibility(atMs, looking));
    }
    this.perform(atMs, this.options.policy.onTick(atMs));
  }

  private perform(atMs: number, puts: ReturnType<RelayPolicy["onTick"]>): void {
    for (const put of puts) this.dataLayer.putDataItem(atMs, put.path, put.map, { urgent: put.urgent });
    const delivered = this.dataLayer.drain(atMs);
    for (const delivery of delivered) {
      this.watch.receive(delivery);
      this.log.push(delivery);
    }
    this.log.splice(0, Math.max(0, this.log.length - LOG_SIZE));
    if (delivered.length) this.wakeups.push({ atMs, bytes: delivered.reduce((sum, d) => sum + d.bytes, 0) });
  }
}

import type { Aggregate } from "../domain/aggregate.js";
import type { FollowStatus } from "../tail/follow.js";
import { DataLayer, type WatchDelivery } from "./data-layer.js";
import { type EnergyParams, type EnergyReport, energyReport } from "./energy-model.js";
import { type Glance, isLooking } from "./glances.js";
import { NET_ENERGY_PATH, type RelayPolicy } from "./policy.js";
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
  /** The communities relayed; the first is the one the watch face shows (at `/net_energy`, the prototype's path). */
  readonly communities: readonly string[];
  /** A policy of its own for each community. */
  readonly policyFor: (communityId: string) => RelayPolicy;
  readonly batchDelayMs: number;
  readonly glances: readonly Glance[];
  readonly energy: EnergyParams;
  /** Follows a community's SSE stream (the API's; a fake in tests). */
  readonly follow: (communityId: string, onAggregate: (aggregate: Aggregate) => void, onStatus: (status: FollowStatus) => void) => { close(): void };
  /** GET of the latest value, for the watch's request when the relay's cache is older than a minute. */
  readonly fetchLatest: (communityId: string) => Promise<Aggregate | undefined>;
  readonly now?: () => number;
}

interface Relayed {
  readonly communityId: string;
  /** `/net_energy` for the first community; `/net_energy/<id>` for the others (a watch with a tile per community). */
  readonly path: string;
  readonly policy: RelayPolicy;
  latest: { aggregate: Aggregate; receivedAtMs: number } | undefined;
  link: FollowStatus["state"];
  follower?: { close(): void };
}

const LOG_SIZE = 8;
const TICK_MS = 1_000;

/**
 * The phone's role, live: the SSE stream of each community feeds its policy, whose puts go
 * through one Data Layer model to the emulated watch; the glance pattern opens and closes the
 * watch app. Everything the watch receives is counted for the energy figures.
 */
export class LiveRelay {
  private readonly dataLayer: DataLayer;
  private readonly watch = new EmulatedWatch();
  private readonly log: WatchDelivery[] = [];
  private readonly wakeups: Array<{ atMs: number; bytes: number }> = [];
  private readonly relayed: Relayed[];
  private looking = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly startedAtMs: number;

  constructor(private readonly options: LiveRelayOptions) {
    this.now = options.now ?? Date.now;
    this.startedAtMs = this.now();
    this.dataLayer = new DataLayer({ batchDelayMs: options.batchDelayMs });
    this.relayed = options.communities.map((communityId, index) => ({
      communityId,
      path: index === 0 ? NET_ENERGY_PATH : `${NET_ENERGY_PATH}/${communityId}`,
      policy: options.policyFor(communityId),
      latest: undefined,
      link: "connecting",
    }));
  }

  start(): void {
    for (const relayed of this.relayed) {
      relayed.follower = this.options.follow(
        relayed.communityId,
        (aggregate) => this.update(relayed, aggregate, this.now()),
        (status) => {
          relayed.link = status.state;
        },
      );
    }
    this.timer = setInterval(() => void this.tick(), TICK_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    for (const relayed of this.relayed) relayed.follower?.close();
  }

  snapshot(): RelaySnapshot {
    const nowMs = this.now();
    const shown = this.relayed[0];
    return {
      link: shown?.link ?? "connecting",
      looking: this.looking,
      watch: this.watch,
      truthW: shown?.latest?.aggregate.netW,
      log: [...this.log],
      energy: energyReport({ durationMs: Math.max(1, nowMs - this.startedAtMs), wakeups: this.wakeups, screenOnMs: 0 }, this.options.energy),
      startedAtMs: this.startedAtMs,
    };
  }

  private update(relayed: Relayed, aggregate: Aggregate, atMs: number): void {
    relayed.latest = { aggregate, receivedAtMs: atMs };
    this.perform(relayed, atMs, relayed.policy.onUpdate(atMs, aggregate.netW, Date.parse(aggregate.measuredAt) || atMs));
  }

  private async tick(): Promise<void> {
    const atMs = this.now();
    const looking = isLooking(this.options.glances, atMs);
    const opened = looking !== this.looking;
    this.looking = looking;
    for (const relayed of this.relayed) {
      if (opened) {
        // The watch asks on resume; the relay answers from its cache if younger than a minute, else GETs.
        if (looking && (!relayed.latest || atMs - relayed.latest.receivedAtMs > WATCH_VALIDITY_MS)) {
          const fresh = await this.options.fetchLatest(relayed.communityId).catch(() => undefined);
          if (fresh) this.update(relayed, fresh, atMs);
        }
        this.perform(relayed, atMs, relayed.policy.onVisibility(atMs, looking));
      }
      this.perform(relayed, atMs, relayed.policy.onTick(atMs));
    }
  }

  private perform(relayed: Relayed, atMs: number, puts: ReturnType<RelayPolicy["onTick"]>): void {
    for (const put of puts) this.dataLayer.putDataItem(atMs, put.path === NET_ENERGY_PATH ? relayed.path : put.path, put.map, { urgent: put.urgent });
    const delivered = this.dataLayer.drain(atMs);
    for (const delivery of delivered) {
      this.watch.receive(delivery);
      this.log.push(delivery);
    }
    this.log.splice(0, Math.max(0, this.log.length - LOG_SIZE));
    if (delivered.length) this.wakeups.push({ atMs, bytes: delivered.reduce((sum, d) => sum + d.bytes, 0) });
  }
}

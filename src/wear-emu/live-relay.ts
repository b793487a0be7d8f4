import type { Aggregate } from "../domain/aggregate.js";
import type { FollowStatus } from "../domain/follow-status.js";
import { DataLayer, type WatchDelivery } from "./data-layer.js";
import { type EnergyParams, type EnergyReport, energyReport } from "./energy-model.js";
import { type Glance, isLooking } from "./glances.js";
import { NET_ENERGY_PATH, type RelayPolicy } from "./policy.js";
import { EmulatedWatch, WATCH_VALIDITY_MS } from "./watch.js";

/** What the relay needs of the API: its stream, and a GET of the latest value. */
export interface RelayFeed {
  /** Follows a community's stream of aggregates until closed. */
  follow(communityId: string, onAggregate: (aggregate: Aggregate) => void, onStatus: (status: FollowStatus) => void): { close(): void };
  /** The latest value, for the watch's request when the relay's cache is older than a minute; a rejection counts as none. */
  latest(communityId: string): Promise<Aggregate | undefined>;
}

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
  /** When the user looks (the emulated user); undefined: a real watch says so (`setLooking`). */
  readonly glances: readonly Glance[] | undefined;
  readonly energy: EnergyParams;
  /** Where the values come from: the API (its client satisfies RelayFeed), or a fake in tests. */
  readonly feed: RelayFeed;
  /** Each delivery that reaches the emulated watch also goes here (a watch app through adb). */
  readonly onDelivery?: (delivery: WatchDelivery) => void;
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
 * through one Data Layer model to the emulated watch (and to a real watch app, `onDelivery`);
 * the glance pattern, or the real watch's messages, open and close the watch app.
 * Everything the watch receives is counted for the energy figures.
 */
export class LiveRelay {
  private readonly dataLayer: DataLayer;
  private readonly watch = new EmulatedWatch();
  private readonly log: WatchDelivery[] = [];
  private readonly wakeups: Array<{ atMs: number; bytes: number }> = [];
  private readonly relayed: Relayed[];
  private looking = false;
  /** Latest time handed to the Data Layer, which must never go backwards. */
  private lastAtMs = Number.NEGATIVE_INFINITY;
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
      relayed.follower = this.options.feed.follow(
        relayed.communityId,
        (aggregate) => this.update(relayed, aggregate),
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

  /** The watch app came to the foreground or left it (a real watch's message). */
  async setLooking(looking: boolean): Promise<void> {
    if (looking === this.looking) return;
    this.looking = looking;
    await this.visibilityChanged(looking);
  }

  /** The watch is reachable or not: while it is not, data items wait; on return they go at once. */
  setWatchConnected(connected: boolean): void {
    this.dataLayer.setWatchConnected(this.atMs(), connected);
    this.drain();
  }

  /**
   * The watch's `/request_latest_energy`: answered with a message at the community's path (a
   * message always reaches a connected watch, even when its data item is unchanged), from the
   * relay's cache if younger than a minute, else after a GET. Unknown community: nothing.
   */
  async answerRequest(communityId?: string): Promise<void> {
    const relayed = communityId === undefined ? this.relayed[0] : this.relayed.find((r) => r.communityId === communityId);
    if (!relayed) return;
    await this.refreshIfOld(relayed);
    if (!relayed.latest || !this.dataLayer.watchConnected) return;
    const { netW, measuredAt } = relayed.latest.aggregate;
    const payload = new TextEncoder().encode(JSON.stringify({ netEnergy: Math.round(netW), measuredAt: Date.parse(measuredAt) }));
    this.dataLayer.sendMessage(this.atMs(), relayed.path, payload);
    this.drain();
  }

  private update(relayed: Relayed, aggregate: Aggregate): void {
    const atMs = this.atMs();
    relayed.latest = { aggregate, receivedAtMs: atMs };
    this.perform(relayed, relayed.policy.onUpdate(atMs, aggregate.netW, Date.parse(aggregate.measuredAt) || atMs));
  }

  private async tick(): Promise<void> {
    if (this.options.glances) {
      const looking = isLooking(this.options.glances, this.now());
      if (looking !== this.looking) {
        this.looking = looking;
        await this.visibilityChanged(looking);
      }
    }
    for (const relayed of this.relayed) this.perform(relayed, relayed.policy.onTick(this.atMs()));
  }

  /** The watch asks on resume: the relay answers from its cache if younger than a minute, else GETs. */
  private async visibilityChanged(looking: boolean): Promise<void> {
    for (const relayed of this.relayed) {
      if (looking) await this.refreshIfOld(relayed);
      this.perform(relayed, relayed.policy.onVisibility(this.atMs(), looking));
    }
  }

  private async refreshIfOld(relayed: Relayed): Promise<void> {
    if (relayed.latest && this.now() - relayed.latest.receivedAtMs <= WATCH_VALIDITY_MS) return;
    const fresh = await this.options.feed.latest(relayed.communityId).catch(() => undefined);
    if (fresh) this.update(relayed, fresh);
  }

  /** Now, but never before a time already handed to the Data Layer (awaits interleave). */
  private atMs(): number {
    this.lastAtMs = Math.max(this.lastAtMs, this.now());
    return this.lastAtMs;
  }

  private perform(relayed: Relayed, puts: ReturnType<RelayPolicy["onTick"]>): void {
    const atMs = this.atMs();
    for (const put of puts) this.dataLayer.putDataItem(atMs, put.path === NET_ENERGY_PATH ? relayed.path : put.path, put.map, { urgent: put.urgent });
    this.drain();
  }

  private drain(): void {
    const delivered = this.dataLayer.drain(this.atMs());
    for (const delivery of delivered) {
      this.watch.receive(delivery);
      this.options.onDelivery?.(delivery);
      this.log.push(delivery);
    }
    this.log.splice(0, Math.max(0, this.log.length - LOG_SIZE));
    const byTime = new Map<number, number>();
    for (const delivery of delivered) byTime.set(delivery.atMs, (byTime.get(delivery.atMs) ?? 0) + delivery.bytes);
    for (const [atMs, bytes] of byTime) this.wakeups.push({ atMs, bytes });
  }
}

import type { Aggregate } from "../domain/aggregate.js";
import type { Clock, Timer } from "../domain/clock.js";
import type { FollowStatus } from "../domain/follow-status.js";
import { DataLayer, type WatchDelivery } from "./data-layer.js";
import { type EnergyParams, type EnergyReport, energyReport } from "./energy-model.js";
import { type Glance, isLooking } from "./glances.js";
import { NET_ENERGY_PATH, type RelayPolicy } from "./policy.js";
import { type RelayLogEntry, deliveryEntry, putEntries, withHeld } from "./relay-log.js";
import { EmulatedWatch, type HeldValue, WATCH_VALIDITY_MS } from "./watch.js";
import { Wrist } from "./wrist.js";

/** What the relay needs of the API: its stream, and a GET of the latest value. */
export interface RelayFeed {
  /** Follows a community's stream of aggregates until closed. */
  follow(communityId: string, onAggregate: (aggregate: Aggregate) => void, onStatus: (status: FollowStatus) => void): { close(): void };
  /** The latest value, for the watch's request when the relay's cache is older than a minute; a rejection counts as none. */
  latest(communityId: string): Promise<Aggregate | undefined>;
}

/** What the live view shows. */
export interface RelaySnapshot {
  /** When the snapshot was taken. */
  readonly atMs: number;
  readonly link: FollowStatus["state"];
  /** Whether the watch app is on screen: the wrist raised, a glance of the pattern, or the real watch's app open. */
  readonly looking: boolean;
  /** How long the raised wrist's glance still lasts; undefined when the wrist is down. */
  readonly wristRemainingMs: number | undefined;
  /** What the watch face shows (the first community's `/net_energy`). */
  readonly held: HeldValue | undefined;
  /** The first community's latest value at the relay, as the API served it. */
  readonly truthW: number | undefined;
  /** What the policy and the Data Layer did, newest last. */
  readonly log: readonly RelayLogEntry[];
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
  /** Time: the system's clock, or one a test advances. */
  readonly clock: Clock;
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
 * the glance pattern, the wrist the user raises, or the real watch's messages open and close
 * the watch app. Everything the watch receives is counted for the energy figures.
 */
export class LiveRelay {
  private readonly dataLayer: DataLayer;
  private readonly watch = new EmulatedWatch();
  private log: RelayLogEntry[] = [];
  private readonly wakeups: Array<{ atMs: number; bytes: number }> = [];
  private readonly relayed: Relayed[];
  private readonly wrist = new Wrist();
  /** What the policies were last told: the app on screen or not. */
  private looking = false;
  /** The real watch's app is in the foreground (its own messages). */
  private appOpen = false;
  /** Latest time handed to the Data Layer, which must never go backwards. */
  private lastAtMs = Number.NEGATIVE_INFINITY;
  private ticks: Timer | undefined;
  /** Lowers the wrist when its glance ends, to the millisecond. */
  private glanceEnd: Timer | undefined;
  private readonly clock: Clock;
  private readonly startedAtMs: number;

  constructor(private readonly options: LiveRelayOptions) {
    this.clock = options.clock;
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
    this.ticks = this.clock.every(TICK_MS, () => void this.tick());
  }

  stop(): void {
    this.ticks?.cancel();
    this.glanceEnd?.cancel();
    for (const relayed of this.relayed) relayed.follower?.close();
  }

  snapshot(): RelaySnapshot {
    const nowMs = this.now();
    const shown = this.relayed[0];
    return {
      atMs: nowMs,
      link: shown?.link ?? "connecting",
      looking: this.looking,
      wristRemainingMs: this.wrist.remainingMs(nowMs),
      held: this.watch.held,
      truthW: shown?.latest?.aggregate.netW,
      log: this.log,
      energy: energyReport({ durationMs: Math.max(1, nowMs - this.startedAtMs), wakeups: this.wakeups, screenOnMs: 0 }, this.options.energy),
      startedAtMs: this.startedAtMs,
    };
  }

  /** The watch app came to the foreground or left it (a real watch's message). */
  async setLooking(looking: boolean): Promise<void> {
    this.appOpen = looking;
    await this.lookingChanged();
  }

  /** The user raises the wrist for a glance, or lowers it before the glance ends (the live view's space bar). */
  async toggleWrist(): Promise<void> {
    this.glanceEnd?.cancel();
    if (this.wrist.toggle(this.now())) this.glanceEnd = this.clock.after(this.wrist.remainingMs(this.now())!, () => void this.lookingChanged());
    await this.lookingChanged();
  }

  /** The watch is reachable or not: while it is not, data items wait; on return they go at once. */
  setWatchConnected(connected: boolean): void {
    const atMs = this.atMs();
    this.dataLayer.setWatchConnected(atMs, connected);
    this.drainAndLog(atMs);
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
    const atMs = this.atMs();
    this.dataLayer.sendMessage(atMs, relayed.path, payload);
    this.drainAndLog(atMs);
  }

  private update(relayed: Relayed, aggregate: Aggregate): void {
    const atMs = this.atMs();
    relayed.latest = { aggregate, receivedAtMs: atMs };
    const puts = relayed.policy.onUpdate(atMs, aggregate.netW, Date.parse(aggregate.measuredAt) || atMs);
    if (puts.length === 0) this.log = withHeld(this.log, atMs, relayed.path, aggregate.netW, this.looking).slice(-LOG_SIZE);
    this.perform(relayed, puts);
  }

  private async tick(): Promise<void> {
    await this.lookingChanged();
    for (const relayed of this.relayed) this.perform(relayed, relayed.policy.onTick(this.atMs()));
  }

  /** Tells the policies when the app came on screen or left it (any of the three reasons). */
  private async lookingChanged(): Promise<void> {
    const nowMs = this.now();
    const looking = this.appOpen || this.wrist.isRaised(nowMs) || (this.options.glances !== undefined && isLooking(this.options.glances, nowMs));
    if (looking === this.looking) return;
    this.looking = looking;
    // The watch asks on resume: the relay answers from its cache if younger than a minute, else GETs.
    for (const relayed of this.relayed) {
      if (looking) await this.refreshIfOld(relayed);
      // The user looked away (or back) while the GET was out: that later change tells the policies.
      if (this.looking !== looking) return;
      this.perform(relayed, relayed.policy.onVisibility(this.atMs(), looking));
    }
  }

  private async refreshIfOld(relayed: Relayed): Promise<void> {
    if (relayed.latest && this.now() - relayed.latest.receivedAtMs <= WATCH_VALIDITY_MS) return;
    const fresh = await this.options.feed.latest(relayed.communityId).catch(() => undefined);
    if (fresh) this.update(relayed, fresh);
  }

  private now(): number {
    return this.clock.now();
  }

  /** Now, but never before a time already handed to the Data Layer (awaits interleave). */
  private atMs(): number {
    this.lastAtMs = Math.max(this.lastAtMs, this.now());
    return this.lastAtMs;
  }

  /**
   * Makes the policy's puts, and logs what became of each (and of any batch that fell due
   * meanwhile). One instant for all of it: the clock may tick between two calls, and the Data
   * Layer refuses a put dated before a drain it already made.
   */
  private perform(relayed: Relayed, puts: ReturnType<RelayPolicy["onTick"]>): void {
    const atMs = this.atMs();
    this.drainAndLog(atMs);
    for (const put of puts) {
      const path = put.path === NET_ENERGY_PATH ? relayed.path : put.path;
      const changed = this.dataLayer.putDataItem(atMs, path, put.map, { urgent: put.urgent });
      this.record(putEntries(atMs, path, put, changed, this.drain(atMs), (at) => this.wakeupAt(at), this.dataLayer.nextDueMs()));
    }
  }

  /** Hands what reached the watch by `atMs` to the emulated watch (and a real one), and counts the wake-ups. */
  private drain(atMs: number): WatchDelivery[] {
    const delivered = this.dataLayer.drain(atMs);
    for (const delivery of delivered) {
      this.watch.receive(delivery);
      this.options.onDelivery?.(delivery);
      // Deliveries at one instant wake the watch once.
      const last = this.wakeups.at(-1);
      if (last?.atMs === delivery.atMs) last.bytes += delivery.bytes;
      else this.wakeups.push({ atMs: delivery.atMs, bytes: delivery.bytes });
    }
    return delivered;
  }

  /** Drains, and logs each delivery as one of its own (a batch that fell due, a message). */
  private drainAndLog(atMs: number): void {
    this.record(this.drain(atMs).map((delivery) => deliveryEntry(delivery, this.wakeupAt(delivery.atMs))));
  }

  /** The number of the wake-up at `atMs` (from 1). */
  private wakeupAt(atMs: number): number | undefined {
    const index = this.wakeups.findLastIndex((wakeup) => wakeup.atMs === atMs);
    return index === -1 ? undefined : index + 1;
  }

  private record(entries: readonly RelayLogEntry[]): void {
    this.log = [...this.log, ...entries].slice(-LOG_SIZE);
  }
}

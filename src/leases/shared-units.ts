import { hostname } from "node:os";
import { errorMessage } from "../errors.js";
import { unitsOf } from "./assignment.js";
import { isLapsed, Lease, type LeaseStore, parseHolder } from "./lease.js";

/** A unit of work being done under its lease: stopping it gives the lease up. */
export interface HeldUnit {
  /** Finishes what was received (stores, acknowledges) and gives the lease up. */
  stop(): Promise<void>;
  /** The lease was lost: stop without storing or acknowledging anything more. */
  abandon(): Promise<void>;
}

/** Where a group of members keeps its leases: each group (aggregators, archivers) its own keys. */
export interface LeaseKeys {
  /** A member's key is this prefix and its id (`aggregator/member.`). */
  readonly memberPrefix: string;
  readonly unitKey: (unit: number) => string;
}

export interface SharedUnitsOptions {
  /** This member's id: KV-key-safe (`[A-Za-z0-9_-]`), unique among the members. */
  readonly memberId: string;
  readonly keys: LeaseKeys;
  /** Units 0…units-1 are shared. */
  readonly units: number;
  /** How long a lease lasts without renewal (see Lease). Default 15 s. */
  readonly ttlMs?: number;
  /** Starts work on a unit whose lease was just taken; the unit gives the lease up when it stops. */
  readonly start: (unit: number, lease: Lease) => Promise<HeldUnit>;
  /** A rebalance that failed (tried again a second later), or a lease that was lost. */
  readonly onError?: (err: Error) => void;
}

const REBALANCE_INTERVAL_MS = 1_000;

/**
 * Units of work shared by any number of members (issues 16, 22). Each member announces itself
 * with a member key (a lease it renews), and every second computes from the live members which
 * units are its own (`unitsOf`), gives up those that are no longer its own (stopping them,
 * which gives their lease up), and takes those that are (once their lease is free: at once
 * after a clean stop or a crash on this host, after the lease's ttl otherwise).
 */
export class SharedUnits {
  private member: Lease | undefined;
  private readonly held = new Map<number, HeldUnit>();
  private timer: NodeJS.Timeout | undefined;
  private rebalancing: Promise<void> | undefined;
  private stopped = false;

  private constructor(
    private readonly store: LeaseStore,
    private readonly options: SharedUnitsOptions,
  ) {}

  /** Joins the members and takes this member's share of the units before it resolves. */
  static async join(store: LeaseStore, options: SharedUnitsOptions): Promise<SharedUnits> {
    const shared = new SharedUnits(store, options);
    shared.member = await Lease.tryAcquire(store, options.memberId, { key: `${options.keys.memberPrefix}${options.memberId}`, ttlMs: options.ttlMs });
    try {
      await shared.rebalance();
    } catch (err) {
      await shared.leave();
      throw err;
    }
    shared.timer = setInterval(() => void shared.rebalanceOnce(), REBALANCE_INTERVAL_MS);
    return shared;
  }

  /** The units this member works on now, in order. */
  get units(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  private rebalanceOnce(): void {
    this.rebalancing ??= this.rebalance()
      .catch((err: unknown) => this.options.onError?.(new Error(`Could not rebalance the leases: ${errorMessage(err)}`)))
      .finally(() => {
        this.rebalancing = undefined;
      });
  }

  /** The members whose key is renewed; the keys of those gone (killed, not stopped) are removed on the way. */
  private async liveMembers(): Promise<string[]> {
    const now = Date.now();
    const { memberPrefix } = this.options.keys;
    const members = [this.options.memberId];
    for (const key of await this.store.keys(`${memberPrefix}>`)) {
      const entry = await this.store.get(key);
      if (!entry) continue;
      const holder = parseHolder(entry.value);
      if (holder && !isLapsed(holder, now, hostname())) members.push(key.slice(memberPrefix.length));
      // Only that revision: a member that renewed meanwhile keeps its key.
      else await this.store.delete(key, entry.revision).catch(() => undefined);
    }
    return members;
  }

  private async rebalance(): Promise<void> {
    if (this.stopped) return;
    const wanted = new Set(unitsOf(this.options.memberId, await this.liveMembers(), this.options.units));
    await Promise.all(this.units.filter((unit) => !wanted.has(unit)).map((unit) => this.release(unit)));
    await Promise.all([...wanted].filter((unit) => !this.held.has(unit)).map((unit) => this.take(unit)));
  }

  /** Takes a unit if its lease is free; a held one is tried again at the next rebalance. */
  private async take(unit: number): Promise<void> {
    const lease = await Lease.tryAcquire(this.store, this.options.memberId, {
      key: this.options.keys.unitKey(unit),
      ttlMs: this.options.ttlMs,
      onLost: (err) => {
        this.options.onError?.(err);
        void this.abandon(unit);
      },
    });
    if (!lease || this.stopped) return void (await lease?.release());
    this.held.set(unit, await this.options.start(unit, lease));
  }

  private async release(unit: number): Promise<void> {
    const held = this.held.get(unit);
    this.held.delete(unit);
    await held?.stop();
  }

  private async abandon(unit: number): Promise<void> {
    const held = this.held.get(unit);
    this.held.delete(unit);
    await held?.abandon();
  }

  /** Stops every unit (each gives its lease up) and leaves the members. */
  async leave(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.rebalancing;
    await Promise.all(this.units.map((unit) => this.release(unit)));
    await this.member?.release();
  }
}

import { hostname } from "node:os";
import { PARTITIONS, partitionOf } from "../wire/names.js";
import { errorMessage } from "../errors.js";
import { unitsOf } from "./assignment.js";
import { ForeignWriteGuard } from "./foreign-writes.js";
import { Lease, MEMBER_KEY_PREFIX, STRAYS_LEASE_KEY, isLapsed, memberKey, parseHolder, partitionLeaseKey } from "./lease.js";
import { type AggregatorOptions, type AggregatorStats, emptyStats } from "./options.js";
import { PartitionWorker } from "./partition-worker.js";
import type { AggregatorPorts } from "./ports.js";
import { StrayForwarder } from "./stray-forwarder.js";

export type { AggregatorOptions, AggregatorStats } from "./options.js";

/** Work units: the partitions 0…PARTITIONS-1, then the forwarding of unpartitioned readings. */
const STRAYS_UNIT = PARTITIONS;
const UNITS = PARTITIONS + 1;
const REBALANCE_INTERVAL_MS = 1_000;

interface Unit {
  stop(): Promise<void>;
  /** The unit's lease was lost: stop without storing or acknowledging anything more. */
  abandon(): Promise<void>;
}

/** A KV-key-safe id for this aggregator: host, pid and a random part. */
function newMemberId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 40);
  return `${host}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * One aggregator instance. Any number of them work together on one stream: each announces
 * itself with a member key in `ec_agg_state` (a lease it renews), and every second each
 * computes from the live members which partitions are its own (`unitsOf`), gives up those
 * that are no longer its own (flushing, acknowledging and releasing their lease), and takes
 * those that are (once their lease is free: at once after a clean stop or a crash on this
 * host, after the lease's ttl otherwise). A partition's new owner starts from its snapshots
 * and gets every unacknowledged reading redelivered, so a hand-over loses nothing and counts
 * nothing twice.
 */
export class Aggregator {
  readonly stats: AggregatorStats = emptyStats();
  private readonly memberId = newMemberId();
  private member: Lease | undefined;
  private readonly units = new Map<number, Unit>();
  private timer: NodeJS.Timeout | undefined;
  private rebalancing: Promise<void> | undefined;
  private stopped = false;
  /** The partitions' workers (the units but the forwarder of strays), by partition. */
  private readonly workers = new Map<number, PartitionWorker>();
  private readonly guard: ForeignWriteGuard;

  private constructor(
    private readonly ports: AggregatorPorts,
    private readonly options: AggregatorOptions,
  ) {
    this.guard = new ForeignWriteGuard(
      ports,
      {
        owns: (communityId) => this.workers.has(partitionOf(communityId)),
        communities: () => [...this.workers.values()].flatMap((worker) => [...worker.communities()]),
        rewrite: (communityId) => this.workers.get(partitionOf(communityId))?.rewrite(communityId) ?? false,
      },
      this.stats,
      options,
    );
  }

  /** Joins the members and takes this aggregator's share of the partitions before it resolves. */
  static async start(ports: AggregatorPorts, options: AggregatorOptions = {}): Promise<Aggregator> {
    const aggregator = new Aggregator(ports, options);
    aggregator.member = await Lease.tryAcquire(ports.state, aggregator.memberId, { key: memberKey(aggregator.memberId), ttlMs: options.leaseTtlMs });
    try {
      await aggregator.rebalance();
      await aggregator.guard.start();
    } catch (err) {
      await aggregator.stop();
      throw err;
    }
    aggregator.timer = setInterval(() => void aggregator.rebalanceOnce(), REBALANCE_INTERVAL_MS);
    return aggregator;
  }

  /** The partitions this aggregator works on now (the forwarder of unpartitioned readings not counted). */
  get partitions(): number[] {
    return [...this.units.keys()].filter((unit) => unit !== STRAYS_UNIT).sort((a, b) => a - b);
  }

  private rebalanceOnce(): void {
    this.rebalancing ??= this.rebalance()
      .catch((err: unknown) => this.options.onError?.(new Error(`Could not rebalance the partitions: ${errorMessage(err)}`)))
      .finally(() => {
        this.rebalancing = undefined;
      });
  }

  /** The members whose key is renewed; the keys of those gone (killed, not stopped) are removed on the way. */
  private async liveMembers(): Promise<string[]> {
    const now = Date.now();
    const members = [this.memberId];
    for (const key of await this.ports.state.keys(`${MEMBER_KEY_PREFIX}>`)) {
      const entry = await this.ports.state.get(key);
      if (!entry) continue;
      const holder = parseHolder(entry.value);
      if (holder && !isLapsed(holder, now, hostname())) members.push(key.slice(MEMBER_KEY_PREFIX.length));
      // Only that revision: a member that renewed meanwhile keeps its key.
      else await this.ports.state.delete(key, entry.revision).catch(() => undefined);
    }
    return members;
  }

  private async rebalance(): Promise<void> {
    if (this.stopped) return;
    const wanted = new Set(unitsOf(this.memberId, await this.liveMembers(), UNITS));
    await Promise.all([...this.units.keys()].filter((unit) => !wanted.has(unit)).map((unit) => this.release(unit)));
    await Promise.all([...wanted].filter((unit) => !this.units.has(unit)).map((unit) => this.take(unit)));
    this.stats.partitions = this.partitions.length;
  }

  /** Takes a unit if its lease is free; a held one is tried again at the next rebalance. */
  private async take(unit: number): Promise<void> {
    const lease = await Lease.tryAcquire(this.ports.state, this.memberId, {
      key: unit === STRAYS_UNIT ? STRAYS_LEASE_KEY : partitionLeaseKey(unit),
      ttlMs: this.options.leaseTtlMs,
      onLost: (err) => {
        this.options.onError?.(err);
        void this.abandon(unit);
      },
    });
    if (!lease || this.stopped) return void (await lease?.release());
    if (unit === STRAYS_UNIT) return void this.units.set(unit, await StrayForwarder.start(this.ports, lease, this.stats, this.options));
    const worker = await PartitionWorker.start(this.ports, unit, lease, this.stats, this.options, (communityId, restored) => this.guard.count(communityId, "kv", restored));
    this.units.set(unit, worker);
    this.workers.set(unit, worker);
  }

  private async release(unit: number): Promise<void> {
    const worker = this.units.get(unit);
    this.units.delete(unit);
    this.workers.delete(unit);
    await worker?.stop();
  }

  private async abandon(unit: number): Promise<void> {
    const worker = this.units.get(unit);
    this.units.delete(unit);
    this.workers.delete(unit);
    await worker?.abandon();
  }

  /** Stops every partition (storing and acknowledging what was received), gives up the leases and leaves the members. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.guard.stop();
    await this.rebalancing;
    await Promise.all([...this.units.keys()].map((unit) => this.release(unit)));
    this.stats.partitions = 0;
    await this.member?.release();
  }
}

import { hostname } from "node:os";
import { PARTITIONS, partitionOf } from "../wire/names.js";
import type { Lease } from "../leases/lease.js";
import { type HeldUnit, SharedUnits } from "../leases/shared-units.js";
import { ForeignWriteGuard } from "./foreign-writes.js";
import { MEMBER_KEY_PREFIX, STRAYS_LEASE_KEY, partitionLeaseKey } from "./lease.js";
import { type AggregatorOptions, type AggregatorStats, emptyStats } from "./options.js";
import { PartitionWorker } from "./partition-worker.js";
import type { AggregatorPorts } from "./ports.js";
import { StrayForwarder } from "./stray-forwarder.js";

export type { AggregatorOptions, AggregatorStats } from "./options.js";

/** Work units: the partitions 0…PARTITIONS-1, then the forwarding of unpartitioned readings. */
const STRAYS_UNIT = PARTITIONS;
const UNITS = PARTITIONS + 1;

/** A KV-key-safe id for this aggregator: host, pid and a random part. */
function newMemberId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 40);
  return `${host}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * One aggregator instance. Any number of them work together on one stream: they share the
 * partitions and the forwarding of unpartitioned readings through leases in `ec_agg_state`
 * (src/leases/shared-units.ts). A partition's new owner starts from its snapshots and gets
 * every unacknowledged reading redelivered, so a hand-over loses nothing and counts nothing
 * twice.
 */
export class Aggregator {
  readonly stats: AggregatorStats = emptyStats();
  private shared: SharedUnits | undefined;
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
    aggregator.shared = await SharedUnits.join(ports.state, {
      memberId: newMemberId(),
      keys: { memberPrefix: MEMBER_KEY_PREFIX, unitKey: (unit) => (unit === STRAYS_UNIT ? STRAYS_LEASE_KEY : partitionLeaseKey(unit)) },
      units: UNITS,
      ttlMs: options.leaseTtlMs,
      start: (unit, lease) => aggregator.take(unit, lease),
      onError: options.onError,
    });
    try {
      await aggregator.guard.start();
    } catch (err) {
      await aggregator.stop();
      throw err;
    }
    return aggregator;
  }

  /** The partitions this aggregator works on now (the forwarder of unpartitioned readings not counted). */
  get partitions(): number[] {
    return [...this.workers.keys()].sort((a, b) => a - b);
  }

  private async take(unit: number, lease: Lease): Promise<HeldUnit> {
    if (unit === STRAYS_UNIT) return StrayForwarder.start(this.ports, lease, this.stats, this.options);
    const worker = await PartitionWorker.start(this.ports, unit, lease, this.stats, this.options, (communityId, restored) => this.guard.count(communityId, "kv", restored));
    this.workers.set(unit, worker);
    this.stats.partitions = this.workers.size;
    const gone = (): void => {
      this.workers.delete(unit);
      this.stats.partitions = this.workers.size;
    };
    return {
      stop: async () => {
        gone();
        await worker.stop();
      },
      abandon: async () => {
        gone();
        await worker.abandon();
      },
    };
  }

  /** Stops every partition (storing and acknowledging what was received), gives up the leases and leaves the members. */
  async stop(): Promise<void> {
    await this.guard.stop();
    await this.shared?.leave();
  }
}

import { hostname } from "node:os";
import { EcwatchError } from "../errors.js";
import { isAlive } from "../stack/state-file.js";

/**
 * Only one process at a time may work on a unit (an aggregator's partition with its per-meter
 * state, an archiver's partition with its segments). A lease is a KV key renewed by
 * compare-and-set; it lapses when its holder stops renewing (or, on the same host, dies).
 * The same mechanism announces the members that are alive (shared-units.ts).
 */

export interface LeaseEntry {
  readonly value: string;
  readonly revision: number;
}

/** The KV bucket the leases live in; revisions make compare-and-set possible. */
export interface LeaseStore {
  /** Keys matching a NATS subject filter (`>` for all); a deleted key may be listed. */
  keys(filter?: string): Promise<string[]>;
  /** The entry, or undefined when the key is missing or deleted. */
  get(key: string): Promise<LeaseEntry | undefined>;
  /** Creates the key; rejects when it exists. Resolves its revision. */
  create(key: string, value: string): Promise<number>;
  /** Writes the key if its revision is still `revision`; rejects otherwise. */
  update(key: string, value: string, revision: number): Promise<number>;
  /** Deletes the key (only at `previousRevision` when given). */
  delete(key: string, previousRevision?: number): Promise<void>;
}

export interface Holder {
  readonly id: string;
  readonly pid: number;
  readonly host: string;
  /** Wall-clock ms after which the lease may be taken over. */
  readonly expiresAt: number;
}

/** How long a lease lasts without renewal, unless told otherwise; renewed every third of it. */
export const DEFAULT_LEASE_TTL_MS = 15_000;

export interface LeaseOptions {
  readonly key: string;
  /** How long a lease lasts without renewal. Default 15 s (renewed every third of it). */
  readonly ttlMs?: number;
  /** Called when another holder took the lease over (seen at the next renewal). */
  readonly onLost?: (err: Error) => void;
  readonly now?: () => number;
}

/** Whether a lease held by `holder` may be taken by someone on `host` at `now`. */
export function isLapsed(holder: Holder, now: number, host: string, alive: (pid: number) => boolean = isAlive): boolean {
  return holder.expiresAt <= now || (holder.host === host && !alive(holder.pid));
}

export function parseHolder(text: string): Holder | undefined {
  try {
    const value = JSON.parse(text) as Partial<Holder>;
    return typeof value.id === "string" && typeof value.pid === "number" && typeof value.host === "string" && typeof value.expiresAt === "number"
      ? (value as Holder)
      : undefined;
  } catch {
    return undefined;
  }
}

export class Lease {
  private revision = 0;
  private timer: NodeJS.Timeout | undefined;
  private released = false;
  private readonly ttlMs: number;
  private readonly now: () => number;

  private constructor(
    private readonly kv: LeaseStore,
    private readonly options: LeaseOptions,
    /** Who holds it: the same id for all leases of one member. */
    readonly id: string,
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  /** Takes the lease if it is free or lapsed; undefined when someone else holds it. */
  static async tryAcquire(kv: LeaseStore, holderId: string, options: LeaseOptions): Promise<Lease | undefined> {
    const lease = new Lease(kv, options, holderId);
    return (await lease.attempt()) ? undefined : lease.renewing();
  }

  private renewing(): this {
    this.timer = setInterval(() => void this.renew(), this.ttlMs / 3);
    this.timer.unref();
    return this;
  }

  private value(): string {
    return JSON.stringify({ id: this.id, pid: process.pid, host: hostname(), expiresAt: this.now() + this.ttlMs } satisfies Holder);
  }

  /** One try to take the key: undefined once it is ours, else its live holder. */
  private async attempt(): Promise<Holder | undefined> {
    const key = this.options.key;
    for (let race = 1; ; race += 1) {
      const entry = await this.kv.get(key);
      const holder = entry ? parseHolder(entry.value) : undefined;
      try {
        if (!entry) this.revision = await this.kv.create(key, this.value());
        else if (!holder || isLapsed(holder, this.now(), hostname())) this.revision = await this.kv.update(key, this.value(), entry.revision);
        else return holder;
        return undefined;
      } catch (err) {
        // Someone else created or updated it between our get and our write: look again.
        if (race >= 3) throw err;
      }
    }
  }

  private async renew(): Promise<void> {
    if (this.released) return;
    try {
      this.revision = await this.kv.update(this.options.key, this.value(), this.revision);
    } catch (err) {
      const current = await this.kv.get(this.options.key).catch(() => undefined);
      const holder = current ? parseHolder(current.value) : undefined;
      // Our own write landed but its reply was lost: go on from the stored revision.
      if (holder?.id === this.id) this.revision = current!.revision;
      else if (holder) {
        this.stopRenewing();
        this.options.onLost?.(new EcwatchError("LEASE_LOST", `Another process (${holder.id}, pid ${holder.pid} on ${holder.host}) took over ${this.options.key}.`, { cause: err }));
      }
      // Otherwise NATS is briefly unreachable: the next renewal tries again.
    }
  }

  private stopRenewing(): void {
    this.released = true;
    clearInterval(this.timer);
  }

  /** Gives the lease up, so the next holder need not wait for it to lapse. */
  async release(): Promise<void> {
    this.stopRenewing();
    await this.kv.delete(this.options.key, this.revision).catch(() => undefined);
  }
}

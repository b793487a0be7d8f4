import { hostname } from "node:os";
import type { KV } from "@nats-io/kv";
import { EcwatchError } from "../errors.js";
import { isAlive } from "../stack/state-file.js";

/**
 * Only one aggregator may own the per-meter state: two would each keep their own copy in
 * memory and overwrite each other's snapshots. The lease is a KV key renewed by
 * compare-and-set; it lapses when its holder stops renewing (or, on the same host, dies).
 */
export const LEASE_KEY = "aggregator/lease";

interface Holder {
  readonly id: string;
  readonly pid: number;
  readonly host: string;
  /** Wall-clock ms after which the lease may be taken over. */
  readonly expiresAt: number;
}

export interface LeaseOptions {
  /** How long a lease lasts without renewal. Default 15 s (renewed every third of it). */
  readonly ttlMs?: number;
  /** How long to wait for a held lease to lapse before giving up. Default: its ttl plus 2 s. */
  readonly waitMs?: number;
  /** Called when the lease was lost (taken over, or renewals failed past its expiry). */
  readonly onLost?: (err: Error) => void;
  readonly now?: () => number;
}

/** Whether a lease held by `holder` may be taken by someone on `host` at `now`. */
export function isLapsed(holder: Holder, now: number, host: string, alive: (pid: number) => boolean = isAlive): boolean {
  return holder.expiresAt <= now || (holder.host === host && !alive(holder.pid));
}

function parseHolder(text: string): Holder | undefined {
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
  private readonly id = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  private readonly ttlMs: number;
  private readonly now: () => number;

  private constructor(
    private readonly kv: KV,
    private readonly options: LeaseOptions,
  ) {
    this.ttlMs = options.ttlMs ?? 15_000;
    this.now = options.now ?? Date.now;
  }

  /** Takes the lease, waiting for a held one to lapse; an EcwatchError names the holder if it does not. */
  static async acquire(kv: KV, options: LeaseOptions = {}): Promise<Lease> {
    const lease = new Lease(kv, options);
    await lease.take();
    lease.timer = setInterval(() => void lease.renew(), lease.ttlMs / 3);
    lease.timer.unref();
    return lease;
  }

  private value(): string {
    return JSON.stringify({ id: this.id, pid: process.pid, host: hostname(), expiresAt: this.now() + this.ttlMs } satisfies Holder);
  }

  private async take(): Promise<void> {
    const deadline = this.now() + (this.options.waitMs ?? this.ttlMs + 2_000);
    for (;;) {
      const entry = await this.kv.get(LEASE_KEY);
      const holder = entry?.operation === "PUT" ? parseHolder(entry.string()) : undefined;
      try {
        if (!entry || entry.operation !== "PUT") this.revision = await this.kv.create(LEASE_KEY, this.value());
        else if (!holder || isLapsed(holder, this.now(), hostname())) this.revision = await this.kv.update(LEASE_KEY, this.value(), entry.revision);
        else if (this.now() >= deadline) {
          throw new EcwatchError("AGGREGATOR_RUNNING", `Another aggregator holds the lease (pid ${holder.pid} on ${holder.host}).`, {
            hint: "Run one aggregator per stream: stop the other one (or `ecwatch up`, which runs one) and try again.",
          });
        } else {
          await new Promise((resolve) => setTimeout(resolve, 500));
          continue;
        }
        return;
      } catch (err) {
        if (err instanceof EcwatchError) throw err;
        // Someone else created or updated it between our get and our write: look again.
        if (this.now() >= deadline) throw err;
      }
    }
  }

  private async renew(): Promise<void> {
    if (this.released) return;
    try {
      this.revision = await this.kv.update(LEASE_KEY, this.value(), this.revision);
    } catch (err) {
      const current = await this.kv.get(LEASE_KEY).catch(() => null);
      const holder = current?.operation === "PUT" ? parseHolder(current.string()) : undefined;
      if (holder && holder.id !== this.id) {
        this.stopRenewing();
        this.options.onLost?.(new EcwatchError("LEASE_LOST", `Another aggregator (pid ${holder.pid} on ${holder.host}) took over the lease.`, { cause: err }));
      }
      // Otherwise NATS is briefly unreachable: the next renewal tries again.
    }
  }

  private stopRenewing(): void {
    this.released = true;
    clearInterval(this.timer);
  }

  /** Gives the lease up, so the next aggregator need not wait for it to lapse. */
  async release(): Promise<void> {
    this.stopRenewing();
    await this.kv.delete(LEASE_KEY, { previousSeq: this.revision }).catch(() => undefined);
  }
}

/**
 * The API's limit on writes (issue 10), pure: a token bucket per client address, with the
 * clock passed in. A bucket holds up to `burst` tokens and gains `perSecond` a second; a
 * request takes one, or is refused with the time until one is there.
 */

export interface RateLimit {
  /** Tokens a bucket gains per second. */
  readonly perSecond: number;
  /** Most tokens a bucket holds: the requests a quiet client may send at once. */
  readonly burst: number;
}

/** 100 POSTs a second per client address, 200 at once: far above a meter gateway's needs, far below what hurts JetStream. */
export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 100, burst: 200 };

export type Take = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

interface Bucket {
  tokens: number;
  atMs: number;
}

/** How many buckets may exist before the full ones (as good as new) are dropped. */
const SWEEP_FROM = 1_024;

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private sweepAt = SWEEP_FROM;

  constructor(readonly limit: RateLimit) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) throw new RangeError("a rate limit needs perSecond > 0 and burst ≥ 1");
  }

  /** Takes a token from `key`'s bucket at `nowMs`. */
  take(key: string, nowMs: number): Take {
    const bucket = this.refilled(key, nowMs);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) * 1000) / this.limit.perSecond) };
  }

  /** Buckets kept: the clients seen lately whose bucket has not refilled yet. */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(key: string, nowMs: number): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.sweepAt) this.sweep(nowMs);
      bucket = { tokens: this.limit.burst, atMs: nowMs };
      this.buckets.set(key, bucket);
      return bucket;
    }
    // A clock that steps back adds nothing.
    const elapsedMs = Math.max(0, nowMs - bucket.atMs);
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + (elapsedMs * this.limit.perSecond) / 1000);
    bucket.atMs = Math.max(bucket.atMs, nowMs);
    return bucket;
  }

  /** Drops the buckets that are full again: a new one for the same client is the same. Keeps memory bounded by the clients of the last burst/perSecond seconds. */
  private sweep(nowMs: number): void {
    for (const [key, bucket] of this.buckets) {
      const tokens = bucket.tokens + (Math.max(0, nowMs - bucket.atMs) * this.limit.perSecond) / 1000;
      if (tokens >= this.limit.burst) this.buckets.delete(key);
    }
    this.sweepAt = Math.max(SWEEP_FROM, this.buckets.size * 2);
  }
}

const PER = { s: 1, m: 60, h: 3_600 } as const;

/**
 * `--rate-limit`: `100/s`, `6000/m`, `100` (a second) as per second, or `off` (null). Throws
 * a sentence for the flag's parser to show.
 */
export function parseRate(text: string): number | null {
  const value = text.trim();
  if (value === "off") return null;
  const match = /^(\d+(?:\.\d+)?)(?:\/([smh]))?$/.exec(value);
  const count = Number(match?.[1]);
  if (!match || !(count > 0)) throw new Error("expected a rate like 100/s, 6000/m or 5000/h, or off");
  return count / PER[(match[2] ?? "s") as keyof typeof PER];
}

/** The limit of `--rate-limit` and `--rate-burst` (null: off); the burst is two seconds' worth unless given, at least 1. */
export function rateLimitOf(perSecond: number | null, burst?: number): RateLimit | null {
  if (perSecond === null) return null;
  return { perSecond, burst: burst ?? Math.max(1, Math.ceil(2 * perSecond)) };
}

/**
 * One worker's share of `limit` when `workers` processes serve the API (issue 21): each keeps
 * its own buckets, so each gets 1/workers of the rate and of the burst (at least 1). A client
 * spreading its connections over every worker gets the configured limit in all, never
 * `workers` times it; a client on one keep-alive connection, served by one worker, gets its share.
 */
export function perWorker(limit: RateLimit, workers: number): RateLimit {
  return { perSecond: limit.perSecond / workers, burst: Math.max(1, Math.floor(limit.burst / workers)) };
}

import { describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMIT, parseRate, perWorker, rateLimitOf, TokenBuckets } from "../../src/api/rate-limit.js";

/** Takes `n` tokens at `atMs` and returns how many were allowed. */
function takeMany(buckets: TokenBuckets, key: string, n: number, atMs: number): number {
  let allowed = 0;
  for (let i = 0; i < n; i++) if (buckets.take(key, atMs).allowed) allowed += 1;
  return allowed;
}

describe("TokenBuckets", () => {
  it("lets a quiet client send its burst at once, then refuses", () => {
    const buckets = new TokenBuckets({ perSecond: 10, burst: 5 });
    expect(takeMany(buckets, "a", 5, 0)).toBe(5);
    expect(buckets.take("a", 0)).toEqual({ allowed: false, retryAfterMs: 100 });
  });

  it("refills at the rate, never above the burst", () => {
    const buckets = new TokenBuckets({ perSecond: 10, burst: 5 });
    takeMany(buckets, "a", 5, 0);
    expect(takeMany(buckets, "a", 10, 300)).toBe(3);
    // A long pause refills up to the burst only.
    expect(takeMany(buckets, "a", 10, 60_000)).toBe(5);
  });

  it("says how long until the next token", () => {
    const buckets = new TokenBuckets({ perSecond: 2, burst: 1 });
    buckets.take("a", 0);
    expect(buckets.take("a", 100)).toEqual({ allowed: false, retryAfterMs: 400 });
  });

  it("keeps a bucket per client: one client's flood leaves another's alone", () => {
    const buckets = new TokenBuckets({ perSecond: 1, burst: 2 });
    expect(takeMany(buckets, "10.0.0.1", 50, 0)).toBe(2);
    expect(takeMany(buckets, "10.0.0.2", 2, 0)).toBe(2);
  });

  it("gains nothing from a clock that steps back", () => {
    const buckets = new TokenBuckets({ perSecond: 1, burst: 1 });
    buckets.take("a", 10_000);
    expect(buckets.take("a", 0).allowed).toBe(false);
    expect(buckets.take("a", 10_500).allowed).toBe(false);
    expect(buckets.take("a", 11_000).allowed).toBe(true);
  });

  it("forgets the clients whose bucket is full again, so many clients do not pile up", () => {
    const buckets = new TokenBuckets({ perSecond: 100, burst: 200 });
    for (let i = 0; i < 5_000; i++) buckets.take(`client-${i}`, i * 100);
    // Each client was seen once, 100 ms apart: all but the last few refilled long ago.
    expect(buckets.size).toBeLessThanOrEqual(1_024);
  });

  it("refuses a limit that could never allow a request", () => {
    expect(() => new TokenBuckets({ perSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new TokenBuckets({ perSecond: 1, burst: 0 })).toThrow(RangeError);
  });
});

describe("parseRate and rateLimitOf", () => {
  it("reads per second, minute and hour", () => {
    expect(parseRate("100/s")).toBe(100);
    expect(parseRate("100")).toBe(100);
    expect(parseRate("6000/m")).toBe(100);
    expect(parseRate("3600/h")).toBe(1);
    expect(parseRate("0.5/s")).toBe(0.5);
  });

  it("turns the limit off with off", () => {
    expect(parseRate("off")).toBeNull();
    expect(rateLimitOf(null)).toBeNull();
  });

  it.each(["0", "0/s", "-1/s", "fast", "100/d", "1e3", ""])("refuses %j", (text) => {
    expect(() => parseRate(text)).toThrow(/expected a rate like 100\/s/);
  });

  it("gives two seconds' worth of burst unless told, at least one", () => {
    expect(rateLimitOf(100)).toEqual(DEFAULT_RATE_LIMIT);
    expect(rateLimitOf(100, 7)).toEqual({ perSecond: 100, burst: 7 });
    expect(rateLimitOf(1 / 60)).toEqual({ perSecond: 1 / 60, burst: 1 });
  });
});

describe("perWorker", () => {
  it("gives each of n workers 1/n of the rate and of the burst, so that n buckets together allow the configured limit", () => {
    const share = perWorker({ perSecond: 100, burst: 200 }, 4);
    expect(share).toEqual({ perSecond: 25, burst: 50 });
    const buckets = Array.from({ length: 4 }, () => new TokenBuckets(share));
    let allowed = 0;
    for (let i = 0; i < 400; i += 1) if (buckets[i % 4]!.take("10.0.0.1", 0).allowed) allowed += 1;
    expect(allowed).toBe(200);
  });

  it("keeps a burst of at least one request per worker", () => {
    expect(perWorker({ perSecond: 1, burst: 2 }, 4)).toEqual({ perSecond: 0.25, burst: 1 });
  });
});

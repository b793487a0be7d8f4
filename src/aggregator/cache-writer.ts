import type { LatestCache } from "./ports.js";

/**
 * Writes announced aggregates behind into the cache. Redis is a cache in front of KV: a failed
 * write (it fails fast, see RedisCache) does not hold anything back; it is retried every
 * `retryDelayMs` until it lands (unless a newer value of that community landed first), so a
 * reader gets a stale value for no longer than the outage.
 */
export class CacheWriter {
  private readonly retry = new Map<string, string>();
  /** The newest aggregate announced per community: only it may be retried into the cache. */
  private readonly newest = new Map<string, string>();
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly cache: LatestCache,
    private readonly retryDelayMs: number,
    private readonly onFailure: (err: unknown) => void,
  ) {}

  /** Writes a community's newest aggregate; resolves once written or queued for retry. */
  async write(communityId: string, json: string): Promise<void> {
    this.retry.delete(communityId);
    this.newest.set(communityId, json);
    await this.writeAll([[communityId, json]]);
  }

  private async writeAll(entries: ReadonlyArray<readonly [communityId: string, json: string]>): Promise<void> {
    if (!entries.length || this.stopped) return;
    try {
      await this.cache.putLatest(entries.map(([communityId, json]) => ({ communityId, json })));
    } catch (err) {
      // A failed retry must not displace, or come after, a newer value announced meanwhile.
      for (const [communityId, json] of entries) if (this.newest.get(communityId) === json) this.retry.set(communityId, json);
      this.onFailure(err);
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = undefined;
        const retry = [...this.retry];
        this.retry.clear();
        void this.writeAll(retry);
      }, this.retryDelayMs);
    }
  }

  /** Writes nothing more, retries included. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
  }
}

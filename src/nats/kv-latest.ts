import type { JetStreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { LATEST_BUCKET, LATEST_KEY_PREFIX, latestKey } from "../wire/names.js";
import { kvKeys } from "./inspect.js";
import { natsCall } from "./nats-errors.js";

/** The latest aggregates' records in NATS KV (LATEST_BUCKET), as JSON; failures are NatsErrors. */
export class KvLatestRecords {
  constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
  ) {}

  /** The record of a community; undefined when there is none or it was deleted. */
  async get(communityId: string): Promise<string | undefined> {
    const entry = await natsCall(this.kv.get(latestKey(communityId)));
    return entry && entry.operation === "PUT" ? entry.string() : undefined;
  }

  /**
   * From the bucket's stream info (kvKeys), one request: `kv.keys()` reads through an ordered
   * consumer that did not end for seconds while the bucket was written to fast (another writer
   * and ecwatch's aggregator fighting over the keys, issue 18). No key filter: `/` is not a
   * subject token separator, so `community/*` would match nothing. A deleted key may be listed:
   * `get` says it has no record.
   */
  async communityIds(): Promise<string[]> {
    const keys = await natsCall(kvKeys(this.jsm, LATEST_BUCKET));
    return keys.filter((key) => key.startsWith(LATEST_KEY_PREFIX)).map((key) => key.slice(LATEST_KEY_PREFIX.length));
  }
}

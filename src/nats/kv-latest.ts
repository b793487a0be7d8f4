import type { KV } from "@nats-io/kv";
import { LATEST_KEY_PREFIX, latestKey } from "../wire/names.js";
import { natsCall, rethrowNats } from "./nats-errors.js";

/** The latest aggregates' records in NATS KV (LATEST_BUCKET), as JSON; failures are NatsErrors. */
export class KvLatestRecords {
  constructor(private readonly kv: KV) {}

  /** The record of a community; undefined when there is none or it was deleted. */
  async get(communityId: string): Promise<string | undefined> {
    const entry = await natsCall(this.kv.get(latestKey(communityId)));
    return entry && entry.operation === "PUT" ? entry.string() : undefined;
  }

  async communityIds(): Promise<string[]> {
    const ids: string[] = [];
    // No key filter: `/` is not a subject token separator, so `community/*` would match nothing.
    try {
      for await (const key of await this.kv.keys()) if (key.startsWith(LATEST_KEY_PREFIX)) ids.push(key.slice(LATEST_KEY_PREFIX.length));
    } catch (err) {
      rethrowNats(err);
    }
    return ids;
  }
}

import type { JetStreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { STATE_BUCKET } from "../wire/names.js";
import { kvKeys } from "./inspect.js";
import { natsCall } from "./nats-errors.js";

/**
 * A community's stored snapshot in NATS KV (STATE_BUCKET), for the API's MeterSnapshots: its keys
 * are the community id alone (one shard) or `<id>.<n>` and `<id>.d<n>` (aggregator/snapshot-shards.ts);
 * ids hold no `.`, so `<id>` and `<id>.>` are exactly its keys. Failures are NatsErrors.
 */
export class KvMeterSnapshots {
  constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
  ) {}

  async ofCommunity(communityId: string): Promise<string[]> {
    const keys = (await Promise.all([communityId, `${communityId}.>`].map((filter) => natsCall(kvKeys(this.jsm, STATE_BUCKET, filter))))).flat();
    // A key deleted since it was listed (deltas go once the shards are rewritten) has no value: left out.
    const entries = await Promise.all(keys.map((key) => natsCall(this.kv.get(key))));
    return entries.flatMap((entry) => (entry?.operation === "PUT" ? [entry.string()] : []));
  }
}

import type { NatsConnection } from "@nats-io/transport-node";
import { changeFeedSubject } from "../wire/names.js";
import { natsCall } from "./nats-errors.js";

/**
 * The change feed on core NATS: a subscription to `ecagg.<id>` per community, whose messages
 * are the aggregates' JSON as the aggregator announces them; a failed flush is a NatsError.
 */
export class NatsChangeFeed {
  constructor(private readonly nc: NatsConnection) {}

  subscribe(communityId: string, onChange: (json: string) => void): { readonly ready: Promise<void>; unsubscribe(): void } {
    const subscription = this.nc.subscribe(changeFeedSubject(communityId), {
      callback: (err, msg) => {
        if (!err) onChange(msg.string());
      },
    });
    // Once the server has answered a flush, it knows the subscription: no later change is missed.
    return { ready: natsCall(this.nc.flush()), unsubscribe: () => subscription.unsubscribe() };
  }
}

import { errors, type NatsConnection } from "@nats-io/transport-node";
import { natsCall } from "./nats-errors.js";

/** Whether NATS answers: a round trip to the server (a flush, which waits for a reconnect). */
export class NatsPing {
  constructor(private readonly nc: NatsConnection) {}

  ping(): Promise<void> {
    return natsCall(this.nc.isClosed() ? Promise.reject(new errors.ClosedConnectionError()) : this.nc.flush());
  }
}

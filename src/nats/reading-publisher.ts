import type { JetStreamClient } from "@nats-io/jetstream";
import type { CommunityReading } from "../domain/reading.js";
import { communityReadingSubject } from "../wire/names.js";
import { natsCall } from "./nats-errors.js";

/** Publishes a community reading to JetStream (the API's POST), as the prototype did; failures are NatsErrors. */
export class JetStreamReadingPublisher {
  constructor(private readonly js: JetStreamClient) {}

  async publish(reading: CommunityReading): Promise<{ subject: string; seq: number }> {
    const subject = communityReadingSubject(reading.communityId);
    const ack = await natsCall(this.js.publish(subject, JSON.stringify(reading)));
    return { subject, seq: ack.seq };
  }
}

import type { JetStreamClient } from "@nats-io/jetstream";
import type { ReadingSink } from "./reading-sink.js";

const ATTEMPTS = 3;

/**
 * Publishes readings to JetStream with a de-duplication id, retrying with the same id
 * so a retry is never counted twice.
 */
export class JetStreamSink implements ReadingSink {
  constructor(private readonly js: JetStreamClient) {}

  async publish(subject: string, payload: string, dedupId: string | undefined): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.js.publish(subject, payload, dedupId === undefined ? {} : { msgID: dedupId });
        return;
      } catch (err) {
        if (attempt >= ATTEMPTS) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }
}

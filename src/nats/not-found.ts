import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";

/** Whether JetStream answered that the stream or consumer does not exist. */
export function isNotFound(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamNotFound || err.code === JetStreamApiCodes.ConsumerNotFound)
  );
}

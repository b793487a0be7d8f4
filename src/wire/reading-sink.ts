/** One message for a sink: an Emission is one. */
export interface OutgoingMessage {
  readonly subject: string;
  readonly payload: string;
  /** Becomes the Nats-Msg-Id header (none for a replayed message recorded without one). */
  readonly dedupId: string | undefined;
}

/** Called once per message: without an error once it is stored, with the reason when the sink gave up on it. */
export type SinkDone<M extends OutgoingMessage = OutgoingMessage> = (message: M, err?: Error) => void;

/**
 * Where simulated readings go: JetStream or MQTT (see TRANSPORTS). A callback shared by all messages
 * rather than a promise (or a closure) per reading: at 50k readings/s they were a visible share
 * of the simulator's CPU and garbage.
 */
export interface ReadingSink {
  /** Sends `message` and calls `done(message, err?)` exactly once; never throws. */
  publish<M extends OutgoingMessage>(message: M, done: SinkDone<M>): void;
}

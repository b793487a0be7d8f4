import { JetStreamApiError, JetStreamError } from "@nats-io/jetstream";
import { errors } from "@nats-io/transport-node";
import { UpstreamError } from "../errors.js";

/**
 * nats.js's errors that mean the server or the connection failed an operation (unreachable,
 * closed, draining, timed out, no responders, JetStream refused or answered with an error), as
 * opposed to a wrong argument, which is the caller's bug. JetStreamNotEnabled is not exported by
 * the package's public entry; it carries the no-responders RequestError as its cause.
 */
const UPSTREAM_FAILURES: ReadonlyArray<abstract new (...args: never[]) => Error> = [
  errors.ConnectionError,
  errors.ClosedConnectionError,
  errors.DrainingConnectionError,
  errors.RequestError,
  errors.TimeoutError,
  errors.NoRespondersError,
  JetStreamError,
  JetStreamApiError,
];

/** Whether `err` (or one of its causes) is one of nats.js's upstream failures. */
export function isNatsFailure(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 3) return false;
  return UPSTREAM_FAILURES.some((type) => err instanceof type) || isNatsFailure(err.cause, depth + 1);
}

/** A NATS operation of an adapter failed upstream; the nats.js error is the cause. */
export class NatsError extends UpstreamError {
  constructor(cause: unknown) {
    super("nats", cause);
    this.name = "NatsError";
  }
}

/** Rethrows a nats.js upstream failure as a NatsError, anything else as it is. */
export function rethrowNats(err: unknown): never {
  throw isNatsFailure(err) ? new NatsError(err) : err;
}

/** Runs a NATS operation, turning its upstream failures into a NatsError. */
export function natsCall<T>(operation: Promise<T>): Promise<T> {
  return operation.catch(rethrowNats);
}

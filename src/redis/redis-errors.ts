import { UpstreamError } from "../errors.js";

/**
 * A Redis command of an adapter failed; ioredis's error is the cause. ioredis types only the
 * server's error replies (ReplyError) and its give-ups (MaxRetriesPerRequestError); a closed or
 * unwritable connection and a command timeout are plain Errors, so every failure of a command
 * counts as Redis's.
 */
export class RedisError extends UpstreamError {
  constructor(cause: unknown) {
    super("redis", cause);
    this.name = "RedisError";
  }
}

/** Runs a Redis command, turning its failure into a RedisError. */
export function redisCall<T>(command: Promise<T>): Promise<T> {
  return command.catch((err: unknown) => {
    throw new RedisError(err);
  });
}

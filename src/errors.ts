/**
 * Exit codes shared by every command: 0 ok, 1 runtime failure, 2 bad usage; and `bench`'s 99, as
 * k6's: the run completed but a threshold, its own zero-loss and exact-totals check, or a
 * --compare regression failed (issue 20). A run that could not complete is 1, whatever its thresholds.
 */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2, Breached: 99 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error meant for the user: one sentence, optionally with how to fix it.
 * The CLI boundary prints `message` (and `hint`) and exits with `exitCode`.
 */
export class EcwatchError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: { hint?: string; cause?: unknown; exitCode?: ExitCode } = {}) {
    super(message, { cause: options.cause });
    this.name = "EcwatchError";
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.Failure;
  }
}

/** Bad flags or arguments: exit code 2. */
export class UsageError extends EcwatchError {
  constructor(message: string, hint?: string) {
    super("USAGE", message, { hint, exitCode: ExitCode.Usage });
    this.name = "UsageError";
  }
}

/** The backing services an adapter talks to. */
export const UPSTREAMS = ["nats", "redis"] as const;
export type Upstream = (typeof UPSTREAMS)[number];

/**
 * A backing service failed an operation (unreachable, timed out, refused by the server): thrown
 * by the adapters in nats/ and redis/ with the client's own error as `cause`, so that a service
 * tells an upstream failure from its own bug by type (the API answers 503, not 500). The message
 * is the cause's, unchanged.
 */
export class UpstreamError extends EcwatchError {
  readonly upstream: Upstream;

  constructor(upstream: Upstream, cause: unknown) {
    super(`${upstream.toUpperCase()}_FAILED`, errorMessage(cause), { cause });
    this.name = "UpstreamError";
    this.upstream = upstream;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Exit codes shared by every command: ok, runtime failure, bad usage. */
export const ExitCode = { Ok: 0, Failure: 1, Usage: 2 } as const;
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

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

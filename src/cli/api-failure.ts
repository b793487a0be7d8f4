import { ApiClientError, ApiClientErrorCode } from "../api-client/api-client-error.js";
import { EcwatchError } from "../errors.js";

/**
 * A request of the API client that got no answer, as the user reads it (exit 1, and how to
 * fix it); any other error as it is.
 */
export function unreachableApiError(err: unknown): unknown {
  if (!(err instanceof ApiClientError) || err.code !== ApiClientErrorCode.Unreachable || err.status !== undefined) return err;
  return new EcwatchError("API_UNREACHABLE", `Cannot reach the API at ${new URL(err.url).origin}.`, {
    hint: "Start the stack with `ecwatch up`, or pass --api <url> / set ECWATCH_API.",
    cause: err,
  });
}

/**
 * The API's refusal as the user reads it: its status and its own words, with `badQueryHint` for
 * a 400 (the flags that make the query); a request that got no answer as unreachableApiError.
 */
export function refusedQueryError(err: unknown, badQueryHint: string): unknown {
  if (!(err instanceof ApiClientError) || err.status === undefined || err.detail === undefined) return unreachableApiError(err);
  return new EcwatchError(err.status === 400 ? "BAD_QUERY" : "API_ERROR", `The API answered ${err.status}: ${err.detail}.`, { hint: err.status === 400 ? badQueryHint : "Check --api." });
}

/** The status of the API's answer when a request failed after one (not 2xx, or not what the endpoint promises). */
export function answeredStatus(err: unknown): number | undefined {
  return err instanceof ApiClientError ? err.status : undefined;
}

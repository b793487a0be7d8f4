/** Why a request to ecwatch's API failed (a value set, so callers switch on it rather than on message text). */
export const ApiClientErrorCode = {
  /** No answer: refused, reset, a DNS failure or the timeout. `cause` is the network error. */
  Unreachable: "API_UNREACHABLE",
  /** An answer with a status other than 2xx: `status` and `detail` say which and why. */
  Status: "API_STATUS",
  /** A 2xx answer whose body is not what the endpoint promises. */
  BadBody: "API_BAD_BODY",
} as const;
export type ApiClientErrorCode = (typeof ApiClientErrorCode)[keyof typeof ApiClientErrorCode];

/** A failed request of the API client; the command turns it into what the user reads. */
export class ApiClientError extends Error {
  readonly code: ApiClientErrorCode;
  /** The URL asked for. */
  readonly url: string;
  /** The HTTP status, when the API answered. */
  readonly status: number | undefined;
  /** The API's own words: the `error` field of a JSON answer, else the body as it is. */
  readonly detail: string | undefined;

  constructor(code: ApiClientErrorCode, message: string, options: { url: string; status?: number; detail?: string; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = "ApiClientError";
    this.code = code;
    this.url = options.url;
    this.status = options.status;
    this.detail = options.detail;
  }
}

/** The `error` field of a JSON error answer, else the text as it is. */
export function errorDetail(text: string): string {
  try {
    return (JSON.parse(text) as { error?: string }).error ?? text;
  } catch {
    return text; // not JSON: the text as it is
  }
}

/**
 * Cross-origin access to the API (issue 10), pure: off unless origins are configured; then
 * only those origins are echoed, and their preflight requests answered.
 */

/** What a browser page may send besides simple headers: the token, JSON, and SSE's resume id. */
const ALLOWED_HEADERS = "authorization, content-type, last-event-id";
/** Response headers a page may read. */
const EXPOSED_HEADERS = "x-ecwatch-source, retry-after, www-authenticate";
const ALLOWED_METHODS = "GET, POST";
/** How long a browser may reuse a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE_S = 600;

/**
 * One `--cors` value: a comma-separated list of origins (`https://app.example.com`,
 * `http://localhost:5173`) or `*`, each normalised as browsers send it (lower-case scheme and
 * host, no default port, no trailing slash). Throws a sentence naming the first bad one.
 */
export function parseOrigins(text: string): string[] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((origin) => {
      if (origin === "*") return origin;
      let url: URL;
      try {
        url = new URL(origin);
      } catch {
        throw new Error(`${origin} is not an origin like https://app.example.com`);
      }
      if (!/^https?:$/.test(url.protocol) || url.username || url.password || url.pathname !== "/" || url.search || url.hash || origin.endsWith("/")) {
        throw new Error(`${origin} is not an origin like https://app.example.com (scheme, host and port only)`);
      }
      return url.origin;
    });
}

export interface CorsRequest {
  readonly method: string;
  /** The Origin header, when the request came from a page. */
  readonly origin?: string;
  /** Access-Control-Request-Method: set on a preflight. */
  readonly requestMethod?: string;
}

export interface CorsAnswer {
  /** Headers to add to the response (none when CORS is off). */
  readonly headers: Readonly<Record<string, string>>;
  /** A preflight from an allowed origin: answer 204 with `headers`, do not route it. */
  readonly preflight: boolean;
}

const NONE: CorsAnswer = { headers: {}, preflight: false };

/**
 * The CORS headers for a request. Without configured origins: none (no page of another origin
 * can read an answer). With them: the request's origin echoed when it is one of them (or `*`
 * when that was configured), `Vary: Origin` always, so caches keep answers per origin apart.
 * A preflight of an origin not allowed gets no CORS headers and is routed as any OPTIONS.
 */
export function corsAnswer(allowed: readonly string[], request: CorsRequest): CorsAnswer {
  if (!allowed.length) return NONE;
  const vary = { vary: "Origin" };
  const origin = request.origin;
  const any = allowed.includes("*");
  if (origin === undefined || !(any || allowed.includes(origin))) return { headers: vary, preflight: false };
  const base = { ...vary, "access-control-allow-origin": any ? "*" : origin };
  if (request.method === "OPTIONS" && request.requestMethod !== undefined) {
    return {
      headers: { ...base, "access-control-allow-methods": ALLOWED_METHODS, "access-control-allow-headers": ALLOWED_HEADERS, "access-control-max-age": String(PREFLIGHT_MAX_AGE_S) },
      preflight: true,
    };
  }
  return { headers: { ...base, "access-control-expose-headers": EXPOSED_HEADERS }, preflight: false };
}

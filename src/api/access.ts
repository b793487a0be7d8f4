import type { IncomingMessage, ServerResponse } from "node:http";
import { bearerVerdict } from "./auth.js";
import { corsAnswer } from "./cors.js";
import { DEFAULT_RATE_LIMIT, type RateLimit, TokenBuckets } from "./rate-limit.js";

/**
 * Who may do what on the API (issue 10): CORS, the rate limit and the token on writes,
 * applied before a request is routed. Reads (GET, SSE) stay open: the aggregates are what the
 * API is there to show; a write publishes into the pipeline.
 */
export interface ApiAccess {
  /** Writes (POST) need `Authorization: Bearer <token>`. Default none: writes are open (`serve`/`up` allow that on loopback only). */
  readonly token?: string;
  /** Writes per client address. Default DEFAULT_RATE_LIMIT (100/s, burst 200); null: no limit. */
  readonly rateLimit?: RateLimit | null;
  /** Origins whose pages may call the API (`*` for any). Default none: CORS off. */
  readonly corsOrigins?: readonly string[];
  /** The clock of the rate limit. Default Date.now. */
  readonly nowMs?: () => number;
}

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

function refuse(res: ServerResponse, status: number, error: string, headers: Record<string, string>): void {
  const text = JSON.stringify({ error });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

const header = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/**
 * Returns the check run on every request: it sets the CORS headers, and answers itself (true)
 * a preflight, a write over the rate limit (429 with Retry-After) or a write without the
 * token (401 with WWW-Authenticate). The rate limit comes first, so guessing tokens is slowed
 * down as much as writing.
 */
export function accessGuard(access: ApiAccess): (req: IncomingMessage, res: ServerResponse) => boolean {
  const limit = access.rateLimit === undefined ? DEFAULT_RATE_LIMIT : access.rateLimit;
  const buckets = limit ? new TokenBuckets(limit) : undefined;
  const nowMs = access.nowMs ?? Date.now;
  const origins = access.corsOrigins ?? [];
  return (req, res) => {
    const method = req.method ?? "GET";
    const cors = corsAnswer(origins, { method, origin: header(req.headers.origin), requestMethod: header(req.headers["access-control-request-method"]) });
    for (const [name, value] of Object.entries(cors.headers)) res.setHeader(name, value);
    if (cors.preflight) {
      res.writeHead(204).end();
      return true;
    }
    if (READS.has(method)) return false;
    // Behind a proxy all clients share its address: a per-client limit is then the proxy's job.
    const taken = buckets?.take(req.socket.remoteAddress ?? "unknown", nowMs());
    if (taken && !taken.allowed) {
      refuse(res, 429, "too many writes from this address; retry after the time in Retry-After", { "retry-after": String(Math.max(1, Math.ceil(taken.retryAfterMs / 1000))) });
      return true;
    }
    if (access.token === undefined) return false;
    const verdict = bearerVerdict(header(req.headers.authorization), access.token);
    if (verdict === "ok") return false;
    refuse(res, 401, verdict === "missing" ? "writing needs the API token: send Authorization: Bearer <token>" : "the API token is wrong", {
      "www-authenticate": verdict === "missing" ? 'Bearer realm="ecwatch"' : 'Bearer realm="ecwatch", error="invalid_token"',
    });
    return true;
  };
}

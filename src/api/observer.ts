import type { Aggregate } from "../domain/aggregate.js";

/**
 * What the API reports as it works, for metrics and logs (the server itself never prints).
 * Every hook is optional and must be cheap: it runs on the request path.
 */
export interface ApiObserver {
  /** A response ended, or its connection closed first (an SSE stream ends so): counted once per request. */
  readonly onResponse?: (method: string, route: string, status: number) => void;
  /** An SSE event was handed to a client's socket; `initial` for the current value sent on connect. */
  readonly onSseEvent?: (aggregate: Aggregate, initial: boolean) => void;
  /** A request failed with a 5xx (upstream or internal). */
  readonly onServerError?: (err: unknown, status: number) => void;
}

/** A metrics registry as /metrics serves it (prom-client's Registry is one). */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

import { createServer } from "node:http";
import { Counter, Registry, collectDefaultMetrics } from "prom-client";
import { type Listening, listen } from "../http/listen.js";

/**
 * Shared plumbing of the Prometheus metrics (issue 10): a registry per service (an API and an
 * aggregator may share a process, as in `ecwatch up` and the tests), and the small HTTP server
 * that serves an aggregator's. The metrics themselves are in api-metrics.ts and aggregator-metrics.ts.
 */

/** A metrics registry as a server serves it (prom-client's Registry is one; the API's MetricsSource has this shape). */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** A registry with the process metrics prom-client collects (CPU, memory, event-loop lag, GC). */
export function newRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * A counter whose value is read at scrape time from a running total kept elsewhere (the
 * aggregator's stats), so the hot path keeps its plain `+= 1`.
 */
export function counterOf(registry: Registry, name: string, help: string, read: () => number): Counter {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** Serves `GET /metrics` of `source` (and nothing else) on host:port; port 0 picks a free one. */
export function serveMetrics(source: MetricsSource, host: string, port: number): Promise<Listening> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("only /metrics here\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("use GET\n");
      return;
    }
    source.metrics().then(
      (text) => res.writeHead(200, { "content-type": source.contentType, "content-length": Buffer.byteLength(text) }).end(req.method === "HEAD" ? undefined : text),
      (err: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`could not collect the metrics: ${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  return listen(server, host, port);
}

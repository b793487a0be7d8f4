import { createServer } from "node:http";
import { Counter, Registry, collectDefaultMetrics } from "prom-client";
import { type Listening, listen } from "../http/listen.js";

/**
 * Shared plumbing of the Prometheus metrics (issue 10): a registry per service with that
 * service's metrics only (an API and an aggregator may share a process, as in `ecwatch up` and
 * the tests), what one /metrics serves (the process's metrics once, then each service's), and the
 * small HTTP server that serves an aggregator's. The metrics themselves are in api-metrics.ts and
 * aggregator-metrics.ts.
 */

/**
 * prom-client's default gauges named `_total`, which Prometheus reserves for counters
 * (`promtool check metrics` fails on them, issue 18). Each is the sum of a gauge it sits beside,
 * by `type` (`nodejs_active_handles` …): `sum without (type) (nodejs_active_handles)` gives it.
 * Dropped rather than renamed: a renamed copy would still be a second series of what PromQL
 * sums anyway, and upstream wants them gone too (prometheus/client_js#283, open).
 */
const TOTAL_GAUGES = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"];

/** The metrics prom-client collects of the process (CPU, memory, event-loop lag, GC, handles), without its `_total` gauges. */
function processMetrics(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of TOTAL_GAUGES) registry.removeSingleMetric(name);
  return registry;
}

/**
 * What one /metrics serves: the process's metrics once, then the metrics of each service it
 * runs (`ecwatch up`: the API's and the aggregator's). A name in two registries throws here,
 * at start, never as a scrape that declares a family twice. The services' metrics must exist
 * when this is called: the merge takes those registered so far.
 */
export function exposition(services: readonly Registry[]): Registry {
  return Registry.merge([processMetrics(), ...services]);
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

/** Serves `GET /metrics` (and nothing else) on host:port, the exposition of `services`; port 0 picks a free one. */
export function serveMetrics(services: readonly Registry[], host: string, port: number): Promise<Listening> {
  const source = exposition(services);
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

import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Aggregate } from "../domain/aggregate.js";

export interface ApiMetricsOptions {
  /** SSE clients connected now, read at scrape time. */
  readonly sseClients: () => number;
  /** Wall-clock milliseconds; a test's clock. */
  readonly now?: () => number;
}

export interface ApiMetrics {
  /** The API's own metrics (served with the process's by exposition()). */
  readonly registry: Registry;
  /** The hooks to give the API (the shape of its ApiObserver's). */
  readonly observer: {
    /** A response ended (or its connection closed first), with its route template. */
    readonly onResponse: (method: string, route: string, status: number) => void;
    /** An SSE event was handed to a client's socket; `initial` for the current value sent on connect. */
    readonly onSseEvent: (aggregate: Aggregate, initial: boolean) => void;
  };
}

/** From the ~5 ms of a quiet stack to the tens of seconds of a backlog or a stuck aggregator. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The API's metrics. The end-to-end latency runs from a reading's measuredAt (the newest one in
 * the aggregate, the meter's clock) to the moment its change is handed to an SSE client's socket:
 * it is meaningful with meters on real time (not an accelerated `sim --speed`), and a clock ahead
 * of the server's counts as 0.
 */
export function apiMetrics(options: ApiMetricsOptions): ApiMetrics {
  const registry = new Registry();
  const now = options.now ?? Date.now;
  const requests = new Counter({ name: "ecwatch_api_requests_total", help: "HTTP requests by method, route template and status (an SSE stream counts when it closes)", labelNames: ["method", "route", "status"], registers: [registry] });
  const posts = new Counter({ name: "ecwatch_api_readings_posted_total", help: "POST /communities by status: 200 published, 4xx rejected, 5xx failed upstream", labelNames: ["status"], registers: [registry] });
  new Gauge({
    name: "ecwatch_api_sse_clients",
    help: "SSE clients connected now",
    registers: [registry],
    collect() {
      this.set(options.sseClients());
    },
  });
  const events = new Counter({ name: "ecwatch_api_sse_events_total", help: "SSE events handed to clients: the current value on connect (initial) and each change", labelNames: ["kind"], registers: [registry] });
  const latency = new Histogram({ name: "ecwatch_api_event_latency_seconds", help: "A reading's measuredAt to its change written to an SSE client", buckets: LATENCY_BUCKETS, registers: [registry] });
  // The hooks run once per client per event: the labels are bound once, and a change's
  // measuredAt is parsed once for all the clients it goes to.
  const initialEvents = events.labels("initial");
  const changeEvents = events.labels("change");
  let lastChange: Aggregate | undefined;
  let lastMeasured = Number.NaN;
  return {
    registry,
    observer: {
      onResponse: (method, route, status) => {
        requests.inc({ method, route, status: String(status) });
        if (method === "POST" && route === "/communities") posts.inc({ status: String(status) });
      },
      onSseEvent: (aggregate, initial) => {
        // The value on connect may be hours old: only changes measure the pipeline.
        if (initial) {
          initialEvents.inc();
          return;
        }
        changeEvents.inc();
        if (aggregate !== lastChange) {
          lastChange = aggregate;
          lastMeasured = Date.parse(aggregate.measuredAt);
        }
        if (Number.isFinite(lastMeasured)) latency.observe(Math.max(0, now() - lastMeasured) / 1000);
      },
    },
  };
}

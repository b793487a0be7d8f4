import { describe, expect, it } from "vitest";
import { SseClient } from "../../src/api/sse.js";
import { emptyStats } from "../../src/aggregator/options.js";
import type { Aggregate } from "../../src/domain/aggregate.js";
import { aggregatorMetrics } from "../../src/prometheus/aggregator-metrics.js";
import { apiMetrics } from "../../src/prometheus/api-metrics.js";
import { exposition } from "../../src/prometheus/metrics-server.js";
import { declaredTwice, parseSamples, Scrape } from "../helpers/prometheus.js";

const aggregate = (version: number, measuredAt = "2026-11-22T12:00:00.000Z"): Aggregate => ({
  communityId: "c1",
  genW: 1,
  conW: 1,
  netW: 0,
  meters: 1,
  stale: 0,
  measuredAt,
  aggregatedAt: measuredAt,
  version,
  epoch: 1795354800000,
});

const scrape = async (registry: { metrics(): Promise<string> }): Promise<Scrape> => new Scrape(parseSamples(await registry.metrics()));

describe("apiMetrics", () => {
  it("counts requests by route and status, and POSTs of readings by status", async () => {
    const { registry, observer } = apiMetrics({ sseClients: () => 0 });
    observer.onResponse("POST", "/communities", 200);
    observer.onResponse("POST", "/communities", 400);
    observer.onResponse("POST", "/communities", 400);
    observer.onResponse("GET", "/communities/{communityId}", 404);
    const s = await scrape(registry);
    expect(s.value("ecwatch_api_readings_posted_total", { status: "400" })).toBe(2);
    expect(s.value("ecwatch_api_readings_posted_total", { status: "200" })).toBe(1);
    expect(s.value("ecwatch_api_requests_total", { method: "GET", route: "/communities/{communityId}", status: "404" })).toBe(1);
    expect(s.series("ecwatch_api_readings_posted_total")).toHaveLength(2);
  });

  it("reads the SSE clients at scrape time", async () => {
    let clients = 3;
    const { registry } = apiMetrics({ sseClients: () => clients });
    expect((await scrape(registry)).value("ecwatch_api_sse_clients")).toBe(3);
    clients = 1;
    expect((await scrape(registry)).value("ecwatch_api_sse_clients")).toBe(1);
  });

  it("measures measuredAt → written for changes only, not for the value sent on connect", async () => {
    const measured = Date.parse("2026-11-22T12:00:00.000Z");
    const { registry, observer } = apiMetrics({ sseClients: () => 0, now: () => measured + 20 });
    observer.onSseEvent(aggregate(1), true);
    observer.onSseEvent(aggregate(2), false);
    observer.onSseEvent(aggregate(3, ""), false); // a prototype value without a time: counted, not measured
    const s = await scrape(registry);
    expect(s.value("ecwatch_api_sse_events_total", { kind: "initial" })).toBe(1);
    expect(s.value("ecwatch_api_sse_events_total", { kind: "change" })).toBe(2);
    expect(s.value("ecwatch_api_event_latency_seconds_count")).toBe(1);
    expect(s.value("ecwatch_api_event_latency_seconds_sum")).toBeCloseTo(0.02, 6);
    expect(s.value("ecwatch_api_event_latency_seconds_bucket", { le: "0.01" })).toBe(0);
    expect(s.value("ecwatch_api_event_latency_seconds_bucket", { le: "0.025" })).toBe(1);
  });
});

describe("apiMetrics, one change to many clients", () => {
  it("measures each client's write from the change's own measuredAt, the next change from its own", async () => {
    const start = Date.parse("2026-11-22T12:00:00.000Z");
    let now = start + 10;
    const { registry, observer } = apiMetrics({ sseClients: () => 0, now: () => now });
    const first = aggregate(1);
    observer.onSseEvent(first, false); // 10 ms
    now = start + 30;
    observer.onSseEvent(first, false); // 30 ms: the same change, a later client
    observer.onSseEvent(aggregate(2, "2026-11-22T12:00:00.025Z"), false); // 5 ms: measured from its own time
    const s = await scrape(registry);
    expect(s.value("ecwatch_api_sse_events_total", { kind: "change" })).toBe(3);
    expect(s.value("ecwatch_api_event_latency_seconds_sum")).toBeCloseTo(0.045, 6);
    expect(s.value("ecwatch_api_event_latency_seconds_bucket", { le: "0.005" })).toBe(1);
    expect(s.value("ecwatch_api_event_latency_seconds_bucket", { le: "0.01" })).toBe(2);
  });
});

describe("aggregatorMetrics", () => {
  it("mirrors the aggregator's stats and sums the lag of its consumers", async () => {
    const stats = { ...emptyStats(), readings: 41, ignored: 4, late: 3, deadLetters: 5, notReadingSubjects: 2, partitions: 3, cacheErrors: 1 };
    const { registry, observeBatch } = aggregatorMetrics({
      stats: () => stats,
      lag: async () => [
        { partition: "0", lag: 5 },
        { partition: "1", lag: 0 },
        { partition: "strays", lag: 2 },
      ],
    });
    observeBatch(40);
    observeBatch(3);
    const s = await scrape(registry);
    expect(s.value("ecwatch_aggregator_readings_total")).toBe(41);
    expect(s.value("ecwatch_aggregator_readings_ignored_total")).toBe(4);
    expect(s.value("ecwatch_aggregator_readings_late_total")).toBe(3);
    expect(s.value("ecwatch_aggregator_dead_letters_total", { kind: "subject" })).toBe(2);
    expect(s.value("ecwatch_aggregator_dead_letters_total", { kind: "reading" })).toBe(3);
    expect(s.value("ecwatch_aggregator_cache_errors_total")).toBe(1);
    expect(s.value("ecwatch_aggregator_partitions_owned")).toBe(3);
    expect(s.value("ecwatch_aggregator_lag_messages")).toBe(7);
    expect(s.value("ecwatch_aggregator_partition_lag_messages", { partition: "0" })).toBe(5);
    expect(s.value("ecwatch_aggregator_partition_lag_messages", { partition: "strays" })).toBe(2);
    expect(s.value("ecwatch_aggregator_batch_size_count")).toBe(2);
    expect(s.value("ecwatch_aggregator_batch_size_sum")).toBe(43);
    stats.readings = 50;
    expect((await scrape(registry)).value("ecwatch_aggregator_readings_total")).toBe(50);
  });

  it("shows NaN lag and no partition series when JetStream cannot be asked, and still answers", async () => {
    let failing = false;
    const { registry } = aggregatorMetrics({
      stats: emptyStats,
      lag: async () => {
        if (failing) throw new Error("no responders");
        return [{ partition: "0", lag: 1 }];
      },
    });
    expect((await scrape(registry)).value("ecwatch_aggregator_partition_lag_messages", { partition: "0" })).toBe(1);
    failing = true;
    const s = await scrape(registry);
    expect(s.value("ecwatch_aggregator_lag_messages")).toBeNaN();
    expect(s.series("ecwatch_aggregator_partition_lag_messages")).toEqual([]);
  });
});

describe("exposition", () => {
  const services = () => [apiMetrics({ sseClients: () => 0 }).registry, aggregatorMetrics({ stats: emptyStats, lag: async () => [] }).registry];

  it("serves the process metrics once beside every service's, and `_total` only on counters", async () => {
    const text = await exposition(services()).metrics();
    const families = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => ({ name: name!, type: type! }));
    const names = families.map((family) => family.name);
    expect(names).toContain("process_cpu_seconds_total");
    expect(names).toContain("nodejs_active_handles");
    expect(names).toContain("ecwatch_api_requests_total");
    expect(names).toContain("ecwatch_aggregator_readings_total");
    expect(declaredTwice(text)).toEqual([]);
    expect(families.filter((family) => family.name.endsWith("_total") && family.type !== "counter").map((family) => family.name)).toEqual([]);
  });

  it("refuses a metric name that two registries both hold, at start rather than in a scrape", () => {
    const api = apiMetrics({ sseClients: () => 0 }).registry;
    expect(() => exposition([apiMetrics({ sseClients: () => 0 }).registry, apiMetrics({ sseClients: () => 0 }).registry])).toThrow(/ecwatch_api_requests_total/);
  });
});

describe("SseClient's onSent hook", () => {
  it("reports an event when it reaches the socket: at once, or on drain when the socket was full", () => {
    let accepting = true;
    const drain: Array<() => void> = [];
    const res = { write: () => accepting, on: (_: string, listener: () => void) => drain.push(listener), writableLength: 0 };
    const sent: Array<[number, boolean]> = [];
    const client = new SseClient(res, undefined, (a, initial) => sent.push([a.version, initial]));
    client.offerInitial(aggregate(1));
    accepting = false;
    client.offer(aggregate(2)); // written, the socket is now full
    client.offer(aggregate(3)); // waits
    client.offer(aggregate(4)); // replaces 3, which is never sent
    expect(sent).toEqual([
      [1, true],
      [2, false],
    ]);
    accepting = true;
    drain.forEach((listener) => listener());
    expect(sent).toEqual([
      [1, true],
      [2, false],
      [4, false],
    ]);
  });
});

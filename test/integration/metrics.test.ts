import { setTimeout as sleep } from "node:timers/promises";
import { jetstream } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiServer } from "../../src/api/server.js";
import { connectNats } from "../../src/nats/connect.js";
import { PARTITIONS } from "../../src/wire/names.js";
import { serveMetrics } from "../../src/prometheus/metrics-server.js";
import { type AggregationService, type ApiService, startAggregation, startApi } from "../../src/app/services.js";
import { CliProcess } from "../helpers/cli.js";
import { STALE_AFTER_MS, underLoad } from "../helpers/faults.js";
import { Scrape } from "../helpers/prometheus.js";
import { SseReader } from "../helpers/sse.js";
import { eventually, startTestStack, type TestStack } from "../helpers/stack.js";

/** 4 communities × 50 meters, a reading per meter every 500 ms: light enough for a shared 2-core machine. */
const SHAPE = { communities: 4, meters: 50, rate: 400 };
const MALFORMED = 3;
/** Two clients on community1, one on each other community. */
const CLIENT_COMMUNITIES = ["community1", "community1", "community2", "community3", "community4"];

let stack: TestStack;
let aggregation: AggregationService;
let api: ApiService;
let aggregatorMetrics: ApiServer;

beforeAll(async () => {
  stack = await startTestStack();
  aggregation = await startAggregation(stack.natsUrl, stack.redisUrl, { staleAfterMs: STALE_AFTER_MS });
  api = await startApi(stack.natsUrl, stack.redisUrl, "127.0.0.1", 0);
  aggregatorMetrics = await serveMetrics([aggregation.metrics], "127.0.0.1", 0);
});

afterAll(async () => {
  await aggregatorMetrics?.close();
  await api?.stop();
  await aggregation?.stop();
  await stack?.stop();
});

const scrapeAggregator = (): Promise<Scrape> => Scrape.of(`${aggregatorMetrics.url}/metrics`);
const scrapeApi = (): Promise<Scrape> => Scrape.of(`${api.url}/metrics`);

async function post(body: unknown): Promise<number> {
  const res = await fetch(`${api.url}/communities`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

describe("/metrics under load", () => {
  it("counts what was sent: readings, dead letters, SSE clients, posts, latency, and no lag at the end", { timeout: 90_000 }, async () => {
    const clients: SseReader[] = [];
    try {
      const { result } = await underLoad(stack.natsUrl, SHAPE, async () => {
        for (const communityId of CLIENT_COMMUNITIES) clients.push(await SseReader.open(`${api.url}/communities/${communityId}/stream`));
        // Each client has had a change pushed (not only the value on connect): the latency histogram has samples.
        await Promise.all(clients.map((client) => client.waitFor(() => client.events.length >= 2, 20_000)));
        expect((await scrapeApi()).value("ecwatch_api_sse_clients")).toBe(CLIENT_COMMUNITIES.length);

        const nc = await connectNats(stack.natsUrl, "test-metrics-malformed");
        const js = jetstream(nc);
        for (let i = 1; i <= MALFORMED; i += 1) await js.publish(`ec.community${i}.meter.broken`, "not json at all");
        await nc.drain();

        expect(await post({ communityId: "posted1", genW: 100, conW: 40, measuredAt: new Date().toISOString() })).toBe(200);
        expect(await post({ communityId: "posted1", genW: -1, conW: 40 })).toBe(400);
        // More load after the scrape, the malformed messages and the posts.
        await sleep(1_000);
      });
      expect(result.acked).toBeGreaterThan(0);

      // Drained: every consumer has processed (acknowledged) all it was given.
      const drained = await eventually(
        async () => {
          const scrape = await scrapeAggregator();
          return scrape.value("ecwatch_aggregator_lag_messages") === 0 ? scrape : undefined;
        },
        30_000,
        "the aggregator's lag to reach 0",
      );
      // The readings the simulator had acknowledged, and the one reading posted to the API.
      expect(drained.value("ecwatch_aggregator_readings_total")).toBe(result.acked + 1);
      expect(drained.value("ecwatch_aggregator_dead_letters_total", { kind: "reading" })).toBe(MALFORMED);
      expect(drained.value("ecwatch_aggregator_dead_letters_total", { kind: "subject" })).toBe(0);
      expect(drained.value("ecwatch_aggregator_partitions_owned")).toBe(PARTITIONS);
      const perPartition = drained.series("ecwatch_aggregator_partition_lag_messages");
      expect(perPartition.map((s) => s.labels.partition).sort()).toEqual([...Array.from({ length: PARTITIONS }, (_, p) => String(p)), "strays"].sort());
      expect(perPartition.every((s) => s.value === 0)).toBe(true);
      // Every message is in exactly one batch: the batch sizes add up to the readings and dead letters.
      expect(drained.value("ecwatch_aggregator_batch_size_count")).toBeGreaterThan(0);
      expect(drained.value("ecwatch_aggregator_batch_size_sum")).toBe(result.acked + 1 + MALFORMED);
      expect(drained.value("ecwatch_aggregator_store_errors_total")).toBe(0);
      expect(drained.value("ecwatch_aggregator_cache_errors_total")).toBe(0);

      const served = await scrapeApi();
      expect(served.value("ecwatch_api_sse_clients")).toBe(CLIENT_COMMUNITIES.length);
      expect(served.value("ecwatch_api_event_latency_seconds_count")).toBeGreaterThan(0);
      expect(served.value("ecwatch_api_sse_events_total", { kind: "change" })).toBeGreaterThanOrEqual(CLIENT_COMMUNITIES.length);
      expect(served.value("ecwatch_api_readings_posted_total", { status: "200" })).toBe(1);
      expect(served.value("ecwatch_api_readings_posted_total", { status: "400" })).toBe(1);
      expect(served.value("ecwatch_api_requests_total", { method: "POST", route: "/communities", status: "200" })).toBe(1);
    } finally {
      clients.forEach((client) => client.stop());
    }
    // A closed stream leaves the gauge and counts as a request of its route.
    const after = await eventually(
      async () => {
        const scrape = await scrapeApi();
        return scrape.value("ecwatch_api_sse_clients") === 0 ? scrape : undefined;
      },
      10_000,
      "the SSE clients gauge to drop to 0",
    );
    expect(after.value("ecwatch_api_requests_total", { method: "GET", route: "/communities/{communityId}/stream", status: "200" })).toBe(CLIENT_COMMUNITIES.length);
    // Every change pushed was measured (the values sent on connect are not: they may be old).
    expect(after.value("ecwatch_api_event_latency_seconds_count")).toBe(after.value("ecwatch_api_sse_events_total", { kind: "change" }));
  });

  it("`ecwatch aggregate --metrics-port 0` serves them, and logs JSON lines off a terminal", { timeout: 60_000 }, async () => {
    const aggregator = new CliProcess(["aggregate", "--nats", stack.natsUrl, "--redis", stack.redisUrl, "--metrics-port", "0", "--log-level", "debug"]);
    try {
      const [, url] = await aggregator.waitForStderr(/"msg":"metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)"/);
      await aggregator.waitForStderr(/^aggregating /m);
      // It shares the partitions with the aggregator started in beforeAll, which hands it some within seconds.
      const scrape = await eventually(
        async () => {
          const found = await Scrape.of(url!);
          return (found.value("ecwatch_aggregator_partitions_owned") ?? 0) > 0 ? found : undefined;
        },
        30_000,
        "the second aggregator to own a partition",
      );
      expect(scrape.value("ecwatch_aggregator_partitions_owned")).toBeLessThan(PARTITIONS);
      expect(scrape.value("ecwatch_aggregator_lag_messages")).toBe(0);
      const records = aggregator.stderr
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { time: string; level: string; msg: string });
      expect(records.length).toBeGreaterThan(0);
      expect(records.every((r) => typeof r.time === "string" && ["debug", "info", "warn", "error"].includes(r.level))).toBe(true);
    } finally {
      aggregator.kill("SIGTERM");
      await aggregator.exited;
    }
  });
});

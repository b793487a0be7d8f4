import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliProcess } from "../helpers/cli.js";
import { declaredTwice, promtoolCheck, Scrape, parseSamples } from "../helpers/prometheus.js";
import { SseReader } from "../helpers/sse.js";
import { startTestStack, type TestStack } from "../helpers/stack.js";

/**
 * Issue 18, point 5: every /metrics that ecwatch serves passes Prometheus's own linter
 * (`promtool check metrics`, installed through apt), after real traffic, so that the
 * histograms and labelled counters have series; and `up` serves its aggregator's metrics on
 * its API's /metrics.
 */

const READINGS = 5;

async function scrape(url: string): Promise<{ text: string; scrape: Scrape }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, scrape: new Scrape(parseSamples(text)) };
}

async function post(api: string, body: unknown): Promise<number> {
  const res = await fetch(`${api}/communities/`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

/** Stops a CLI process and waits for it, if it was started. */
async function stop(cli: CliProcess | undefined): Promise<void> {
  if (!cli?.running) return;
  cli.kill("SIGTERM");
  await cli.exited;
}

describe("`ecwatch serve` and `ecwatch aggregate --metrics-port`", () => {
  let stack: TestStack;
  let aggregate: CliProcess | undefined;
  let serve: CliProcess | undefined;
  let aggregatorUrl: string;
  let api: string;

  beforeAll(async () => {
    stack = await startTestStack();
    aggregate = new CliProcess(["aggregate", "--nats", stack.natsUrl, "--redis", stack.redisUrl, "--metrics-port", "0"]);
    aggregatorUrl = (await aggregate.waitForStderr(/"msg":"metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)"/))[1]!;
    await aggregate.waitForStderr(/^aggregating /m);
    serve = new CliProcess(["serve", "--workers", "1", "--nats", stack.natsUrl, "--redis", stack.redisUrl, "--port", "0"]);
    api = (await serve.waitForStderr(/^serving (http:\/\/127\.0\.0\.1:\d+) /m))[1]!;
  }, 60_000);

  afterAll(async () => {
    await Promise.all([stop(serve), stop(aggregate)]);
    await stack?.stop();
  });

  it("both pass `promtool check metrics` after readings went through them to an SSE client", { timeout: 60_000 }, async () => {
    const client = await SseReader.open(`${api}/communities/prom1/stream`);
    try {
      const start = Date.now();
      for (let i = 1; i <= READINGS; i += 1) {
        expect(await post(api, { communityId: "prom1", genW: 1_000 + i, conW: 500, measuredAt: new Date(start + i).toISOString() })).toBe(200);
        await client.waitFor((event) => event.data.includes(`"genW":${1_000 + i}`), 10_000);
      }
      expect(await post(api, { communityId: "prom1", genW: -1, conW: 500 })).toBe(400);
    } finally {
      client.stop();
    }

    const served = await scrape(`${api}/metrics`);
    expect(served.scrape.value("ecwatch_api_event_latency_seconds_count")).toBeGreaterThanOrEqual(READINGS);
    expect(served.scrape.value("ecwatch_api_readings_posted_total", { status: "400" })).toBe(1);
    expect(await promtoolCheck(served.text)).toEqual({ code: 0, output: "" });

    const aggregated = await scrape(aggregatorUrl);
    expect(aggregated.scrape.value("ecwatch_aggregator_readings_total")).toBe(READINGS);
    expect(aggregated.scrape.value("ecwatch_aggregator_batch_size_count")).toBeGreaterThan(0);
    expect(await promtoolCheck(aggregated.text)).toEqual({ code: 0, output: "" });
  });
});

describe("`ecwatch up`", () => {
  let cwd: string;
  let up: CliProcess | undefined;
  let api: string;

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), "ecwatch-prometheus-"));
    up = new CliProcess(["up", "--communities", "2", "--meters", "3", "--port", "0", "--json"], { cwd });
    api = (JSON.parse((await up.waitForStdout(/^\{"ready":true.*\}$/m, 60_000))[0]) as { api: string }).api;
  }, 90_000);

  afterAll(async () => {
    if (up?.running) {
      up.kill("SIGINT");
      await up.exited;
    }
    rmSync(cwd, { recursive: true, force: true });
  });

  it("serves its aggregator's metrics on its API's /metrics, each family once, and passes `promtool check metrics`", { timeout: 60_000 }, async () => {
    const client = await SseReader.open(`${api}/communities/community1/stream`);
    try {
      // The value on connect, then changes pushed by the simulator's readings.
      await client.waitFor(() => client.events.length >= 3, 20_000);
    } finally {
      client.stop();
    }

    const { text, scrape: metrics } = await scrape(`${api}/metrics`);
    expect(metrics.value("ecwatch_aggregator_readings_total")).toBeGreaterThan(0);
    expect(metrics.value("ecwatch_aggregator_partitions_owned")).toBeGreaterThan(0);
    expect(metrics.value("ecwatch_aggregator_batch_size_count")).toBeGreaterThan(0);
    expect(metrics.value("ecwatch_api_sse_events_total", { kind: "change" })).toBeGreaterThanOrEqual(2);
    expect(metrics.series("process_cpu_seconds_total")).toHaveLength(1);
    expect(declaredTwice(text)).toEqual([]);
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: "" });
  });
});

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { CliProcess } from "../helpers/cli.js";
import { childrenOf, stillRunning } from "../helpers/processes.js";
import { parseSamples, promtoolCheck, Scrape } from "../helpers/prometheus.js";
import { SseReader } from "../helpers/sse.js";
import { eventually } from "../helpers/stack.js";

it("`up --api-workers 2` serves the stream from two API processes, one /metrics with the aggregator's, and Ctrl-C stops them", { timeout: 120_000 }, async () => {
  const cwd = mkdtempSync(join(tmpdir(), "ecwatch-up-workers-"));
  const up = new CliProcess(["up", "--api-workers", "2", "--communities", "1", "--meters", "3", "--port", "0", "--json"], { cwd });
  try {
    const ready = JSON.parse((await up.waitForStdout(/^\{"ready":true.*\}$/m, 60_000))[0]) as { api: string };
    const workers = childrenOf(up.pid, "ecwatch serve");
    expect(workers).toHaveLength(2);

    const clients = await Promise.all([0, 1, 2, 3].map(() => SseReader.open(`${ready.api}/communities/community1/stream`)));
    try {
      await Promise.all(clients.map((client) => client.waitFor(() => true, 20_000)));
    } finally {
      clients.forEach((client) => client.stop());
    }

    const scrape = await eventually(async () => {
      const res = await fetch(`${ready.api}/metrics`, { headers: { connection: "close" } });
      const text = await res.text();
      const parsed = new Scrape(parseSamples(text));
      return (parsed.value("ecwatch_aggregator_readings_total") ?? 0) > 0 ? { text, parsed } : undefined;
    }, 20_000, "the aggregator's readings on the API's /metrics");
    expect(scrape.parsed.series("ecwatch_api_requests_total").length).toBeGreaterThan(0);
    expect(await promtoolCheck(scrape.text)).toEqual({ code: 0, output: "" });

    up.kill("SIGINT");
    expect((await up.exited).code).toBe(0);
    expect(stillRunning(workers)).toEqual([]);
  } finally {
    if (up.running) {
      up.kill("SIGINT");
      await up.exited;
    }
    rmSync(cwd, { recursive: true, force: true });
  }
});

// The aggregator's memory with 100,000 meters (issue 8: RSS ≤ 200 MB), on real servers it
// starts itself: `ecwatch aggregate` runs as a process of its own (so nothing else counts in
// its RSS) and drains rounds of readings — every meter one reading a round — while its RSS
// is sampled from /proc every 100 ms; once with Node's default heap, once with a heap limit.
// Usage: npm run build && node bench/aggregator-memory.mjs [meters=100000] [rounds=3]
// Prints one JSON line and writes it to bench/results/aggregator-memory.json.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { jetstreamManager } from "@nats-io/jetstream";
import { aggregatorBacklog } from "../dist/nats/inspect.js";
import { connectNats } from "../dist/nats/connect.js";
import { ensureTopology } from "../dist/nats/topology.js";
import { meterReadingSubject } from "../dist/wire/names.js";
import { sampleProcess } from "../dist/bench/process-stats.js";
import { startServers } from "./servers.mjs";

const meters = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 3);
const communities = 10;
const perCommunity = Math.ceil(meters / communities);
const HEAP_LIMIT_MB = 96;
const servers = await startServers();
const { nats, redis } = servers;
const nc = await connectNats(nats.url, "bench-fill");
const jsm = await jetstreamManager(nc);
await ensureTopology(jsm);

/** One run: a fresh `ecwatch aggregate` (with `nodeOptions`) drains `rounds` rounds of every meter. */
async function run(nodeOptions) {
  const aggregator = spawn(process.execPath, [new URL("../bin/ecwatch", import.meta.url).pathname, "aggregate"], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, NATS_URL: nats.url, REDIS_URL: redis.url, NO_COLOR: "1", NODE_OPTIONS: nodeOptions },
  });
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, sampleProcess(aggregator.pid)?.rssBytes ?? 0)), 100);
  const started = performance.now();
  for (let round = 0; round < rounds; round += 1) {
    for (let i = 0; i < meters; i += 1) {
      const communityId = `community${(i % communities) + 1}`;
      const meterId = `m${Math.floor(i / communities)}`;
      const reading = { meterId, communityId, genW: (i + round) % 5_000, conW: 100, measuredAt: new Date(1.7e12 + (runs * rounds + round) * 10_000).toISOString(), seq: runs * rounds + round };
      nc.publish(meterReadingSubject(communityId, meterId), JSON.stringify(reading));
      if (i % 2_000 === 0) await nc.flush();
    }
    await nc.flush();
    await new Promise((r) => setTimeout(r, 200));
    while ((await aggregatorBacklog(jsm)) > 0) await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (performance.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 1_000));
  const afterRss = sampleProcess(aggregator.pid)?.rssBytes ?? 0;
  clearInterval(sampler);
  aggregator.kill("SIGINT");
  await new Promise((resolve) => aggregator.once("exit", resolve));
  runs += 1;
  return { nodeOptions, readingsPerSec: Math.round((meters * rounds) / seconds), peakRssMb: Math.round(peakRss / 2 ** 20), rssAfterMb: Math.round(afterRss / 2 ** 20) };
}

let runs = 0;
// Node's default heap sizing lets garbage pile up under a high allocation rate; a heap limit
// makes V8 collect sooner (the live state is ≈ 130 bytes a meter: leave room, see docs/operating.md, Memory).
const defaultHeap = await run("");
const heapLimit = await run(`--max-old-space-size=${HEAP_LIMIT_MB}`);

const result = {
  meters,
  communities,
  metersPerCommunity: perCommunity,
  readings: meters * rounds,
  ...defaultHeap,
  withHeapLimit: heapLimit,
  targetRssMb: 200,
};
console.log(JSON.stringify(result));
mkdirSync(new URL("results/", import.meta.url), { recursive: true });
writeFileSync(new URL("results/aggregator-memory.json", import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
await nc.close();
await servers.stop();

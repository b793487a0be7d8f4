// How fast the aggregator drains a backlog of meter readings, on real servers it starts itself.
// Usage: npm run build && node bench/aggregator-drain.mjs [readings=200000]
// Prints one JSON line and writes it to bench/results/aggregator-drain.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { jetstreamManager } from "@nats-io/jetstream";
import { aggregatorBacklog } from "../dist/nats/inspect.js";
import { connectNats } from "../dist/nats/connect.js";
import { ensureTopology } from "../dist/nats/topology.js";
import { startAggregation } from "../dist/app/services.js";
import { fillBacklog } from "./backlog.mjs";
import { startServers } from "./servers.mjs";

const readings = Number(process.argv[2] ?? 200_000);
const communities = 10;
const meters = 1_000;
const servers = await startServers();
const { nats, redis } = servers;
const nc = await connectNats(nats.url, "bench-fill");
const jsm = await jetstreamManager(nc);
await ensureTopology(jsm);

// Fill the stream first, so only draining is timed.
await fillBacklog(nc, jsm, { readings, communities, meters, stepMs: 1_000 });

const cpuBefore = process.cpuUsage();
const started = performance.now();
const aggregation = await startAggregation(nats.url, redis.url);
const { stats } = aggregation.aggregator;
while (stats.readings < readings || (await aggregatorBacklog(jsm)) > 0) {
  await new Promise((r) => setTimeout(r, 20));
}
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const result = {
  readings,
  communities,
  metersPerCommunity: meters,
  seconds: +seconds.toFixed(3),
  readingsPerSec: Math.round(readings / seconds),
  batches: stats.batches,
  largestBatch: stats.largestBatch,
  cpuMicrosPerReading: +((cpu.user + cpu.system) / readings).toFixed(1),
  // The reference prototype's aggregator, measured on this kind of machine (design.md).
  prototypeReadingsPerSec: 2_650,
};
console.log(JSON.stringify(result));
mkdirSync(new URL("results/", import.meta.url), { recursive: true });
writeFileSync(new URL("results/aggregator-drain.json", import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
await aggregation.stop();
await nc.close();
await servers.stop();

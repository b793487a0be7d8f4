// The aggregator's memory with 100,000 meters (issue 8: RSS ≤ 200 MB), on real servers it
// starts itself: `ecwatch aggregate` runs as a process of its own (so nothing else counts in
// its RSS) and drains rounds of readings — every meter one reading a round — while its RSS
// is sampled from /proc every 100 ms.
// Usage: npm run build && node bench/aggregator-memory.mjs [meters=100000] [rounds=3]
// Prints one JSON line and writes it to bench/results/aggregator-memory.json.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { aggregatorBacklog, connectNats, ensureTopology } from "../dist/bus/nats-bus.js";
import { meterReadingSubject } from "../dist/bus/names.js";
import { sampleProcess } from "../dist/bench/process-stats.js";
import { startNats, startRedis } from "../dist/stack/local-server.js";
import { freePort } from "../dist/stack/ports.js";

const meters = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 3);
const communities = 10;
const perCommunity = Math.ceil(meters / communities);
const dir = mkdtempSync(join(tmpdir(), "ecwatch-bench-"));
const nats = await startNats({ dataDir: join(dir, "nats"), preferredPort: await freePort() });
const redis = await startRedis({ dataDir: join(dir, "redis"), preferredPort: await freePort() });
const nc = await connectNats(nats.url, "bench-fill");
const jsm = await jetstreamManager(nc);
await ensureTopology(jsm);

const aggregator = spawn(process.execPath, [new URL("../bin/ecwatch", import.meta.url).pathname, "aggregate"], {
  stdio: ["ignore", "ignore", "inherit"],
  env: { ...process.env, NATS_URL: nats.url, REDIS_URL: redis.url, NO_COLOR: "1" },
});
let peakRss = 0;
let idleRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, sampleProcess(aggregator.pid)?.rssBytes ?? 0)), 100);

const drained = async () => {
  while ((await aggregatorBacklog(jsm)) > 0) await new Promise((r) => setTimeout(r, 50));
};
const started = performance.now();
for (let round = 0; round < rounds; round += 1) {
  for (let i = 0; i < meters; i += 1) {
    const communityId = `community${(i % communities) + 1}`;
    const meterId = `m${Math.floor(i / communities)}`;
    const reading = { meterId, communityId, genW: (i + round) % 5_000, conW: 100, measuredAt: new Date(1.7e12 + round * 10_000).toISOString(), seq: round };
    nc.publish(meterReadingSubject(communityId, meterId), JSON.stringify(reading));
    if (i % 2_000 === 0) await nc.flush();
  }
  await nc.flush();
  await new Promise((r) => setTimeout(r, 200));
  await drained();
}
const seconds = (performance.now() - started) / 1000;
await new Promise((r) => setTimeout(r, 1_000));
idleRss = sampleProcess(aggregator.pid)?.rssBytes ?? 0;
clearInterval(sampler);

const result = {
  meters,
  communities,
  metersPerCommunity: perCommunity,
  readings: meters * rounds,
  readingsPerSec: Math.round((meters * rounds) / seconds),
  peakRssMb: Math.round(peakRss / 2 ** 20),
  rssAfterMb: Math.round(idleRss / 2 ** 20),
  targetRssMb: 200,
};
console.log(JSON.stringify(result));
mkdirSync(new URL("results/", import.meta.url), { recursive: true });
writeFileSync(new URL("results/aggregator-memory.json", import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
aggregator.kill("SIGINT");
await new Promise((resolve) => aggregator.once("exit", resolve));
await nc.close();
await Promise.all([nats.stop(), redis.stop()]);
rmSync(dir, { recursive: true, force: true });

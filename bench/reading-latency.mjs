// One reading at a time through an otherwise idle pipeline: what the path itself costs, apart
// from the load of `ecwatch bench` (issue 8: end-to-end p50 ≤ 5 ms). Starts nats-server and
// redis-server, runs the aggregator and the API in this process, publishes one reading
// (JetStream, acknowledged), and times its acknowledgement, the aggregate on the change feed
// and the event at an SSE client; then the next, 50 ms later.
// Usage: npm run build && node bench/reading-latency.mjs [readings=200]
// Prints one JSON line and writes it to bench/results/reading-latency.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { jetstream } from "@nats-io/jetstream";
import { LatencyHistogram } from "../dist/bench/latency.js";
import { changeFeedSubject, meterReadingSubject } from "../dist/wire/names.js";
import { connectNats } from "../dist/nats/connect.js";
import { freePort } from "../dist/stack/ports.js";
import { startAggregation, startApi } from "../dist/app/services.js";
import { startServers } from "./servers.mjs";

const readings = Number(process.argv[2] ?? 200);
const servers = await startServers();
const { nats, redis } = servers;
const aggregation = await startAggregation(nats.url, redis.url);
const port = await freePort();
const api = await startApi(nats.url, redis.url, "127.0.0.1", port);
const nc = await connectNats(nats.url, "bench-reading-latency");
const js = jetstream(nc);

const community = "community1";
let onFeed;
let onSse;
const feed = nc.subscribe(changeFeedSubject(community), { callback: () => onFeed?.(performance.now()) });
const response = await fetch(`http://127.0.0.1:${port}/communities/${community}/stream`);
const reader = response.body.getReader();
const decoder = new TextDecoder();
void (async () => {
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    if (decoder.decode(value).includes("data:")) onSse?.(performance.now());
  }
})();

const ack = new LatencyHistogram();
const toFeed = new LatencyHistogram();
const toSse = new LatencyHistogram();
for (let seq = 1; seq <= readings + 10; seq += 1) {
  const fed = new Promise((resolve) => (onFeed = resolve));
  const streamed = new Promise((resolve) => (onSse = resolve));
  const startedMs = performance.now();
  const reading = { meterId: "m1", communityId: community, genW: seq, conW: 100, measuredAt: new Date().toISOString(), seq };
  await js.publish(meterReadingSubject(community, "m1"), JSON.stringify(reading));
  const ackedMs = performance.now();
  const [fedMs, streamedMs] = await Promise.all([fed, streamed]);
  // The first ten warm the path up.
  if (seq > 10) {
    ack.record(ackedMs - startedMs);
    toFeed.record(fedMs - startedMs);
    toSse.record(streamedMs - startedMs);
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
}

const result = { readings, publishToAckMs: ack.summary(), publishToChangeFeedMs: toFeed.summary(), publishToSseMs: toSse.summary() };
console.log(JSON.stringify(result));
mkdirSync(new URL("results/", import.meta.url), { recursive: true });
writeFileSync(new URL("results/reading-latency.json", import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
await reader.cancel();
feed.unsubscribe();
await nc.close();
await api.stop();
await aggregation.stop();
await servers.stop();

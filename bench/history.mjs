// Response time of GET /communities/{id}/history for 30 days at 15-minute steps (issue 11: under
// 200 ms wanted): 30 full day records of one community in NATS KV, as the aggregator writes them,
// against a real API with its nats-server and redis-server, all started here.
// Usage: npm run bench:history   Prints a table and writes bench/results/history.json.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { energyDayKey } from "../dist/wire/names.js";
import { openBus } from "../dist/nats/bus.js";
import { encodeDay, MINUTES_PER_DAY } from "../dist/energy/day-record.js";
import { MINUTE_MS, powerOver } from "../dist/energy/meter-energy.js";
import { startApi } from "../dist/app/services.js";
import { startServers } from "./servers.mjs";

const DAYS = 30;
const REQUESTS = 20;
const WARMUP = 3;
const DAY_MS = MINUTES_PER_DAY * MINUTE_MS;
const COMMUNITY = "bench1";

/** A busy community's full day: PV up to 100 kW around noon, 40–70 kW of load, every minute with data. */
function fullDay(dayStartMs, seed) {
  const minutes = new Map();
  for (let i = 0; i < MINUTES_PER_DAY; i += 1) {
    const genW = Math.round(100_000 * Math.max(0, Math.sin((Math.PI * (i - 360)) / 720)));
    const conW = 40_000 + ((i * 7919 + seed * 104_729) % 30_000);
    minutes.set(dayStartMs + i * MINUTE_MS, powerOver({ genW, conW }, MINUTE_MS));
  }
  return minutes;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

const servers = await startServers();
const { nats, redis } = servers;
const api = await startApi(nats.url, redis.url, "127.0.0.1", 0);
const bus = await openBus(nats.url, "bench-history");

const cases = [];
try {
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const firstDay = today - (DAYS - 1) * DAY_MS;
  let recordBytes = 0;
  for (let day = 0; day < DAYS; day += 1) {
    const text = encodeDay(firstDay + day * DAY_MS, fullDay(firstDay + day * DAY_MS, day));
    recordBytes += text.length;
    await bus.energy.put(energyDayKey(COMMUNITY, firstDay + day * DAY_MS), text);
  }
  const from = new Date(firstDay).toISOString();
  const to = new Date(today + DAY_MS).toISOString();
  const base = `${api.url}/communities/${COMMUNITY}`;
  const runs = [
    { name: "history 30d 15m JSON", url: `${base}/history?from=${from}&to=${to}&step=15m`, accept: "application/json", buckets: DAYS * 96 },
    { name: "history 30d 15m CSV", url: `${base}/history?from=${from}&to=${to}&step=15m`, accept: "text/csv", buckets: DAYS * 96 },
    { name: "history 30d 1h Europe/Berlin", url: `${base}/history?from=${from}&to=${to}&step=1h&tz=Europe/Berlin`, accept: "application/json" },
    { name: "history 30d 1d Europe/Berlin", url: `${base}/history?from=${from}&to=${to}&step=1d&tz=Europe/Berlin`, accept: "application/json" },
    { name: "kpis 7d", url: `${base}/kpis?period=7d`, accept: "application/json" },
  ];
  for (const run of runs) {
    const times = [];
    let bytes = 0;
    let buckets;
    for (let i = 0; i < WARMUP + REQUESTS; i += 1) {
      const started = performance.now();
      const res = await fetch(run.url, { headers: { accept: run.accept } });
      const text = await res.text();
      const ms = performance.now() - started;
      if (res.status !== 200) throw new Error(`${run.name}: ${res.status} ${text}`);
      if (run.buckets !== undefined && run.accept === "application/json") {
        buckets = JSON.parse(text).length;
        if (buckets !== run.buckets) throw new Error(`${run.name}: ${buckets} buckets, expected ${run.buckets}`);
      }
      bytes = text.length;
      if (i >= WARMUP) times.push(ms);
    }
    times.sort((a, b) => a - b);
    const round = (ms) => Math.round(ms * 10) / 10;
    cases.push({ name: run.name, requests: REQUESTS, medianMs: round(percentile(times, 50)), p95Ms: round(percentile(times, 95)), maxMs: round(times.at(-1)), responseBytes: bytes, ...(buckets !== undefined && { buckets }) });
  }
  const [main] = cases;
  const report = {
    what: `GET /communities/{id}/history over ${DAYS} days at 15-minute steps, one community, ${DAYS} full day records in NATS KV (${Math.round(recordBytes / DAYS / 1024)} KB each); ${REQUESTS} sequential requests after ${WARMUP} warm-up ones, timed to the last byte of the body`,
    target: "under 200 ms (issue 11)",
    medianMs: main.medianMs,
    p95Ms: main.p95Ms,
    cases,
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    measuredAt: new Date().toISOString(),
  };
  console.log(`history: ${DAYS} day records of ${COMMUNITY}, ${REQUESTS} requests each (after ${WARMUP} warm-up)`);
  for (const c of cases) console.log(`  ${c.name.padEnd(30)} median ${String(c.medianMs).padStart(6)} ms   p95 ${String(c.p95Ms).padStart(6)} ms   ${c.responseBytes} bytes`);
  mkdirSync(new URL("results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("results/history.json", import.meta.url), `${JSON.stringify(report, null, 2)}\n`);
} finally {
  await bus.close();
  await api.stop();
  await servers.stop();
}

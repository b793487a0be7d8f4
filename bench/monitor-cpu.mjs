// CPU of `ecwatch monitor` under a community of 40 meters reporting every second (40 readings/s),
// its face alone and with its meter table open (key m, issue 23), and the time from start to its
// first live frame, in a real terminal (tmux) against servers this script starts. `ecwatch tail`
// under the same load is the baseline: the cost of just receiving the stream.
// Usage: npm run bench:monitor   Prints a table and writes bench/results/monitor-cpu.json.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startAggregation, startApi } from "../dist/app/services.js";
import { openBus } from "../dist/nats/bus.js";
import { meterReadingSubject } from "../dist/wire/names.js";
import { startServers } from "./servers.mjs";

const METERS = 40;
/** Readings a second: each meter once a second. */
const RATE = METERS;
const SECONDS = 30;
const WARMUP_SECONDS = 5;
const BIN = fileURLToPath(new URL("../bin/ecwatch", import.meta.url));
const TICKS_PER_SECOND = 100; // Linux USER_HZ
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const servers = await startServers();
const { nats, redis } = servers;
const aggregation = await startAggregation(nats.url, redis.url);
const api = await startApi(nats.url, redis.url, "127.0.0.1", 0);
const bus = await openBus(nats.url, "bench-monitor");

let step = 0;
/** The next meter's reading, round robin: each of the METERS once a second at RATE. */
async function post() {
  const meter = step % METERS;
  step += 1;
  const meterId = `meter${String(meter).padStart(3, "0")}`;
  const reading = { meterId, communityId: "community1", genW: meter % 3 === 0 ? 3_000 + (step % 100) * 37 : 0, conW: 400 + meter * 20, measuredAt: new Date().toISOString(), seq: step };
  await bus.js.publish(meterReadingSubject("community1", meterId), JSON.stringify(reading));
}

function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime + stime
}

/** A tmux server of the benchmark's own, whatever else runs on the machine. */
const SOCKET = `ecwatch-bench-${process.pid}`;
function tmux(...args) {
  return execFileSync("tmux", ["-L", SOCKET, ...args], { encoding: "utf8" });
}

/** Runs `ecwatch <args>` in a tmux pane, waits for `ready` on screen (then sends `keys` and waits for `opened`), then measures its CPU under load. */
async function measure(name, args, ready, keys, opened) {
  const session = `ecwatch-bench-${name}-${process.pid}`;
  const started = performance.now();
  tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "40", process.execPath, BIN, ...args, "--api", api.url);
  const pid = Number(tmux("display-message", "-p", "-t", session, "#{pane_pid}").trim());
  let firstFrameMs;
  while (firstFrameMs === undefined) {
    if (ready.test(tmux("capture-pane", "-p", "-t", session))) firstFrameMs = performance.now() - started;
    else if (performance.now() - started > 20_000) throw new Error(`${name} showed nothing live within 20 s`);
    else await sleep(20);
  }
  if (keys) {
    tmux("send-keys", "-t", session, keys);
    while (!opened.test(tmux("capture-pane", "-p", "-t", session))) {
      if (performance.now() - started > 30_000) throw new Error(`${name} did not open with ${keys}`);
      await sleep(20);
    }
  }
  // Warm up under the same load (JIT, caches), then measure the steady state.
  const t0 = performance.now();
  let before;
  let measuredFrom;
  for (let i = 0; i < RATE * (WARMUP_SECONDS + SECONDS); i += 1) {
    if (i === RATE * WARMUP_SECONDS) [before, measuredFrom] = [cpuSeconds(pid), performance.now()];
    await post();
    await sleep(Math.max(0, t0 + ((i + 1) * 1000) / RATE - performance.now()));
  }
  const wall = (performance.now() - measuredFrom) / 1000;
  const cpu = cpuSeconds(pid) - before;
  tmux("kill-session", "-t", session);
  return { name, firstLiveFrameMs: Math.round(firstFrameMs), cpuPercentOfOneCore: +((cpu / wall) * 100).toFixed(1), updatesPerSecond: RATE, seconds: +wall.toFixed(1) };
}

for (let i = 0; i < METERS; i += 1) await post();
const results = [];
try {
  results.push(await measure("monitor", ["monitor", "community1"], /live/));
  results.push(await measure("meters", ["monitor", "community1"], /live/, "m", /40 meters, \d+ stale/));
  results.push(await measure("tail", ["tail", "community1"], /community1/));
} finally {
  await bus.close();
  await api.stop();
  await aggregation.stop();
  await servers.stop();
}

console.log(`${METERS} meters each reporting every second (${RATE} readings/s) for ${SECONDS} s, in tmux (100×40); meters = monitor with its meter table open (m):`);
for (const r of results) console.log(`  ${r.name.padEnd(8)} CPU ${String(r.cpuPercentOfOneCore).padStart(5)} % of one core   first live frame after ${r.firstLiveFrameMs} ms`);
const [monitor, meters, tail] = results;
console.log(`  monitor costs ${(monitor.cpuPercentOfOneCore - tail.cpuPercentOfOneCore).toFixed(1)} % of a core more than tail (target: monitor under 5 %); its meter table ${(meters.cpuPercentOfOneCore - monitor.cpuPercentOfOneCore).toFixed(1)} % more than the face`);
mkdirSync(new URL("results/", import.meta.url), { recursive: true });
writeFileSync(new URL("results/monitor-cpu.json", import.meta.url), `${JSON.stringify({ monitor, meterTable: meters, baseline: tail }, null, 2)}\n`);

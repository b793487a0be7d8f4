// How fast the simulator gets readings acknowledged by JetStream (issue 7), on a nats-server it
// starts itself (a fresh one per part, so no part pays for another's stream):
//   a) the simulator's own publisher (core publish + one reply inbox, acks matched by hand),
//      as fast as acknowledged, every reading checked into the stream once;
//   b) the same simulator, window and messages through the stock `js.publish`, the baseline;
//   c) 100,000 meters every 2 s in real time: sustained readings/s, peak RSS and heap.
// Each part runs in a process of its own, so that none inherits another's heap or JIT state.
// Usage: npm run bench:sim [-- readings=500000 baseline=200000 realtimeSeconds=20 phase=spread]
// Prints one JSON line and writes it to bench/results/sim-publish.json.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connectNats } from "../dist/nats/connect.js";
import { ensureTopology } from "../dist/nats/topology.js";
import { AGGREGATOR_CONSUMERS, READING_STREAMS } from "../dist/wire/names.js";
import { NO_FAULTS } from "../dist/sim/faults.js";
import { JetStreamPublisher } from "../dist/nats/jetstream-publisher.js";
import { planSimulation } from "../dist/sim/setup.js";
import { Simulator } from "../dist/sim/simulator.js";
import { startNats } from "../dist/stack/local-server.js";
import { freePort } from "../dist/stack/ports.js";

const argv = process.argv.slice(2);
const PART = argv.find((arg) => arg.startsWith("--part="))?.slice("--part=".length);
const args = Object.fromEntries(argv.filter((arg) => !arg.startsWith("--")).map((arg) => arg.split("=")).map(([k, v]) => [k, k === "phase" ? v : Number(v)]));
// phase=spread: each meter at its own phase (the simulator's default since issue 17); aligned otherwise.
const PHASE = args.phase;
const READINGS = args.readings ?? 500_000;
const BASELINE_READINGS = args.baseline ?? 200_000;
const REALTIME_SECONDS = args.realtimeSeconds ?? 20;
const COMMUNITIES = 100;
const METERS = 1_000;
const INTERVAL_MS = 2_000;
/** The simulator's default window of publishes awaiting their ack. */
const WINDOW = 1_024;
const START_MS = Date.UTC(2026, 5, 21, 10);

/** The baseline: one `js.publish` request per reading, as the simulator had it before issue 7. */
class JsPublishSink {
  constructor(js) {
    this.js = js;
  }

  publish(message, done) {
    this.js.publish(message.subject, message.payload, message.dedupId === undefined ? {} : { msgID: message.dedupId }).then(
      () => done(message),
      (err) => done(message, err),
    );
  }
}

/** CPU seconds of a process so far (Linux). */
function cpuSecondsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A nats-server of its own with the topology, the stream without a consumer: the publisher alone. */
async function withServer(run) {
  const dir = mkdtempSync(join(tmpdir(), "ecwatch-bench-sim-"));
  const nats = await startNats({ dataDir: join(dir, "nats"), preferredPort: await freePort() });
  const nc = await connectNats(nats.url, "bench-sim");
  try {
    const jsm = await jetstreamManager(nc);
    await ensureTopology(jsm);
    for (const { stream, name } of AGGREGATOR_CONSUMERS) await jsm.consumers.delete(stream, name).catch(() => undefined);
    return await run({ nc, jsm, pid: nats.pid });
  } finally {
    await nc.close();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a simulation through `sink` and measures it; `sample` is called every 250 ms. */
async function measure({ sink, source, speed, pid, jsm, sample }) {
  const simulator = new Simulator(sink, source, { speed, staleAfterMs: 30_000, window: WINDOW });
  const sampler = sample && setInterval(sample, 250);
  const cpuBefore = process.cpuUsage();
  const serverBefore = cpuSecondsOf(pid);
  const started = performance.now();
  await simulator.start();
  const seconds = (performance.now() - started) / 1000;
  if (sampler) clearInterval(sampler);
  const cpu = process.cpuUsage(cpuBefore);
  const { sent, acked, errors } = simulator.stats;
  let stored = 0;
  for (const stream of READING_STREAMS) stored += (await jsm.streams.info(stream)).state.messages;
  return {
    readings: acked,
    seconds: +seconds.toFixed(2),
    readingsPerSec: Math.round(acked / seconds),
    clientCpuMicrosPerReading: +((cpu.user + cpu.system) / acked).toFixed(1),
    serverCpuPercent: Math.round(((cpuSecondsOf(pid) - serverBefore) / seconds) * 100),
    errors,
    inStream: stored,
    // Every reading acknowledged and the stream holds exactly as many: none lost, none twice.
    exact: errors === 0 && acked === sent && stored === acked,
  };
}

const planned = (moments, startMs = START_MS) =>
  planSimulation({ communities: COMMUNITIES, meters: METERS, seed: 1, level: "meter", intervalMs: INTERVAL_MS, startMs, durationMs: moments * INTERVAL_MS, faults: NO_FAULTS, ...(PHASE && { phase: PHASE }) });

/** Live heap after a full GC (the part runs with --expose-gc). */
function liveHeapMB() {
  globalThis.gc();
  return Math.round(process.memoryUsage().heapUsed / 1e6);
}

const parts = {
  // a) The publisher, as fast as acknowledged.
  publisher: () =>
    withServer(async ({ nc, jsm, pid }) => {
      const sink = new JetStreamPublisher(nc);
      const result = await measure({ sink, source: planned(READINGS / (COMMUNITIES * METERS)).source, speed: Number.POSITIVE_INFINITY, pid, jsm });
      const { retried, duplicates, failed } = sink.report();
      return { ...result, retried, duplicates, failed };
    }),

  // b) The baseline: the same simulator, window and messages through js.publish.
  baseline: () =>
    withServer(async ({ nc, jsm, pid }) =>
      measure({ sink: new JsPublishSink(jetstream(nc)), source: planned(BASELINE_READINGS / (COMMUNITIES * METERS)).source, speed: Number.POSITIVE_INFINITY, pid, jsm }),
    ),

  // c) 100,000 meters every 2 s in real time.
  realTime: () => withServer(realTime),
};

async function realTime({ nc, jsm, pid }) {
  const moments = Math.round((REALTIME_SECONDS * 1000) / INTERVAL_MS);
  const simulation = planned(moments, Math.ceil(Date.now() / INTERVAL_MS) * INTERVAL_MS);
  const modelsHeapMB = liveHeapMB();
  let peakHeap = 0;
  const sample = () => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  };
  const sink = new JetStreamPublisher(nc);
  const result = await measure({ sink, source: simulation.source, speed: 1, pid, jsm, sample });
  sample();
  // The last moment goes out (moments − 1) intervals after the first; keeping up means it is
  // acknowledged before the next one would be due.
  const scheduledSeconds = (moments * INTERVAL_MS) / 1000;
  return {
    meters: COMMUNITIES * METERS,
    intervalMs: INTERVAL_MS,
    moments,
    ...result,
    targetReadingsPerSec: (COMMUNITIES * METERS * 1000) / INTERVAL_MS,
    keptUp: result.seconds <= scheduledSeconds,
    behindSeconds: +Math.max(0, result.seconds - scheduledSeconds).toFixed(2),
    retried: sink.report().retried,
    // The models of 100,000 meters, live after a full GC; then the same after the run (models and ground truth).
    modelsHeapMB,
    liveHeapAfterMB: liveHeapMB(),
    peakHeapMB: Math.round(peakHeap / 1e6),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

/** Runs one part in a child process and returns its JSON line. */
function runPart(part) {
  const out = execFileSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), `--part=${part}`, ...argv], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  return JSON.parse(out.trim().split("\n").pop());
}

/** Runs the parts, each in a process of its own, and writes the results. */
function main() {
  // The real-time part first: on a shared machine, the longest part gets the calmest start.
  const realTimeResult = runPart("realTime");
  const publisher = runPart("publisher");
  const baseline = runPart("baseline");
  let natsServer = "unknown";
  try {
    natsServer = execFileSync("nats-server", ["--version"], { encoding: "utf8" }).trim();
  } catch {
    // Reported as unknown.
  }
  const result = {
    communities: COMMUNITIES,
    metersPerCommunity: METERS,
    window: WINDOW,
    publisher,
    baseline: { method: "js.publish", ...baseline },
    speedup: +(publisher.readingsPerSec / baseline.readingsPerSec).toFixed(1),
    realTime: realTimeResult,
    machine: { cpus: cpus().length, node: process.version, natsServer },
  };
  console.log(JSON.stringify(result));
  mkdirSync(new URL("results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("results/sim-publish.json", import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
}

if (PART) console.log(JSON.stringify(await parts[PART]()));
else main();

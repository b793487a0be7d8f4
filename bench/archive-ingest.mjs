// Archive ingest beside the aggregator (issue 22: the archive must not become the bottleneck,
// archiver ≥ 1.0 × the aggregator's drain rate), on real servers it starts itself. A backlog of
// readings (every meter of every community once a step) is published first; then, each round,
// `ecwatch aggregate` and `ecwatch archive` start together as processes of their own, on fresh
// consumers (and fresh KV state, Redis and archive directory), and drain the same backlog. A
// side's drain rate is readings ÷ the time from its consumers' first delivery to their backlog
// (pending + unacknowledged) reaching 0; its start-up (spawn → first delivery) is apart. After
// each round the archive must hold exactly one row per reading published (else exit 1).
// Usage: npm run bench:archive
//        node bench/archive-ingest.mjs [--communities 20 --meters 50 --span 6h --step 1m
//        --rounds 3 --flush-every 10s --cpu-prof <dir>]
// Prints a table and writes bench/results/archive-ingest.json; exits 99 when the median ratio
// archiver ÷ aggregator is below the target (1.0).
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { jetstreamManager } from "@nats-io/jetstream";
import { Redis } from "ioredis";
import { ArchiveQuery } from "../dist/duckdb/archive-query.js";
import { parseDuration } from "../dist/domain/duration.js";
import { ExitCode } from "../dist/errors.js";
import { sampleProcess } from "../dist/bench/process-stats.js";
import { connectNats } from "../dist/nats/connect.js";
import { isNotFound } from "../dist/nats/not-found.js";
import { ensureTopology } from "../dist/nats/topology.js";
import { AGGREGATOR_CONSUMERS, KV_BUCKETS, PARTITIONS, archiveConsumer, kvStreamName, partitionStream } from "../dist/wire/names.js";
import { SEGMENT_SUFFIX } from "../dist/wire/archive-layout.js";
import { fillBacklog } from "./backlog.mjs";
import { startServers } from "./servers.mjs";

const TARGET_RATIO = 1.0;
const POLL_MS = 100;
const ECWATCH = fileURLToPath(new URL("../bin/ecwatch", import.meta.url));

const { values } = parseArgs({
  options: {
    communities: { type: "string", default: "20" },
    meters: { type: "string", default: "50" },
    span: { type: "string", default: "6h" },
    step: { type: "string", default: "1m" },
    rounds: { type: "string", default: "3" },
    "flush-every": { type: "string", default: "10s" },
    "cpu-prof": { type: "string" },
  },
});
const positive = (name, value) => {
  if (!(Number.isInteger(value) && value > 0)) throw new Error(`--${name} must be a positive whole number or duration, not ${values[name]}.`);
  return value;
};
const communities = positive("communities", Number(values.communities));
const meters = positive("meters", Number(values.meters));
const spanMs = positive("span", parseDuration(values.span));
const stepMs = positive("step", parseDuration(values.step));
const rounds = positive("rounds", Number(values.rounds));
const flushEvery = values["flush-every"];
positive("flush-every", parseDuration(flushEvery));
const readings = communities * meters * Math.floor(spanMs / stepMs);

/** The two sides: their durable consumers (stream, name) and their command line. */
const SIDES = {
  aggregator: { consumers: AGGREGATOR_CONSUMERS.map(({ stream, name }) => ({ stream, name })) },
  archiver: { consumers: Array.from({ length: PARTITIONS }, (_, p) => ({ stream: partitionStream(p), name: archiveConsumer(p) })) },
};

const servers = await startServers();
const { nats, redis } = servers;
const nc = await connectNats(nats.url, "bench-archive-ingest");
const jsm = await jetstreamManager(nc);
const cache = new Redis(redis.url);
await ensureTopology(jsm);
const fillStarted = performance.now();
await fillBacklog(nc, jsm, { readings, communities, meters, stepMs });
process.stderr.write(`${readings.toLocaleString("en")} readings stored in ${((performance.now() - fillStarted) / 1000).toFixed(1)} s\n`);

/** A side's backlog, or undefined while one of its consumers does not exist yet; whether any has delivered; how many it delivered again (ack wait run out). */
async function backlogOf(side) {
  let lag = 0;
  let delivered = false;
  let redelivered = 0;
  for (const { stream, name } of SIDES[side].consumers) {
    try {
      const info = await jsm.consumers.info(stream, name);
      lag += info.num_pending + info.num_ack_pending;
      delivered ||= info.delivered.stream_seq > 0;
      redelivered += info.num_redelivered;
    } catch (err) {
      if (isNotFound(err)) return { lag: undefined, delivered, redelivered };
      throw err;
    }
  }
  return { lag, delivered, redelivered };
}

/** Fresh state for a round: no consumers of either side, no KV state, an empty Redis. */
async function reset() {
  for (const { stream, name } of [...SIDES.aggregator.consumers, ...SIDES.archiver.consumers]) {
    await jsm.consumers.delete(stream, name).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
  for (const bucket of KV_BUCKETS) {
    await jsm.streams.delete(kvStreamName(bucket)).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
  await cache.flushall();
}

function startEcwatch(side, args, profileDir) {
  const nodeArgs = profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir, "--cpu-prof-name", `${side}-${Date.now()}.cpuprofile`] : [];
  const child = spawn(process.execPath, [...nodeArgs, ECWATCH, ...args, "--log-level", "warn"], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr = (stderr + chunk).slice(-4_000)));
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return {
    child,
    exited,
    stderr: () => stderr,
    async stop() {
      child.kill("SIGINT");
      const { code, signal } = await exited;
      if (code !== 0) throw new Error(`ecwatch ${side} ended with ${code ?? signal}: ${stderr.trim()}`);
    },
  };
}

/** Sum of the segment files' sizes, their count, and whether a temporary file was left behind. */
function segmentFiles(dir) {
  let bytes = 0;
  let segments = 0;
  let temporary = 0;
  for (const entry of readdirSync(dir, { recursive: true })) {
    if (entry.endsWith(SEGMENT_SUFFIX)) {
      segments += 1;
      bytes += statSync(join(dir, entry)).size;
    } else if (entry.endsWith(".tmp")) temporary += 1;
  }
  return { bytes, segments, temporary };
}

async function runRound(round) {
  await reset();
  const archiveDir = mkdtempSync(join(tmpdir(), "ecwatch-archive-ingest-"));
  const profileDir = values["cpu-prof"];
  const commands = {
    aggregator: ["aggregate", "--nats", nats.url, "--redis", redis.url],
    archiver: ["archive", "--nats", nats.url, "--dir", archiveDir, "--flush-every", flushEvery],
  };
  // Interleaved: which of the two is spawned first alternates from round to round.
  const order = round % 2 === 0 ? ["aggregator", "archiver"] : ["archiver", "aggregator"];
  const spawnedAt = performance.now();
  const procs = Object.fromEntries(order.map((side) => [side, startEcwatch(side, commands[side], profileDir)]));
  const timing = Object.fromEntries(order.map((side) => [side, { firstDeliveryMs: undefined, doneMs: undefined, cpuMs: undefined, redelivered: 0 }]));
  try {
    const cpuAtStart = Object.fromEntries(order.map((side) => [side, sampleProcess(procs[side].child.pid)?.cpuMs ?? 0]));
    while (order.some((side) => timing[side].doneMs === undefined)) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      for (const side of order) {
        if (procs[side].child.exitCode !== null) throw new Error(`ecwatch ${side} exited early: ${procs[side].stderr().trim()}`);
        const t = timing[side];
        if (t.doneMs !== undefined) continue;
        const { lag, delivered, redelivered } = await backlogOf(side);
        const now = performance.now() - spawnedAt;
        t.redelivered = Math.max(t.redelivered, redelivered);
        if (delivered && t.firstDeliveryMs === undefined) t.firstDeliveryMs = now;
        if (lag === 0 && t.firstDeliveryMs !== undefined) {
          t.doneMs = now;
          t.cpuMs = (sampleProcess(procs[side].child.pid)?.cpuMs ?? 0) - cpuAtStart[side];
        }
      }
    }
  } finally {
    await Promise.allSettled(order.map((side) => procs[side].stop()));
  }
  // The archive: exactly one row per reading published.
  const query = await ArchiveQuery.open(archiveDir);
  const [counts] = (await query.run("SELECT count(*) AS total, count(DISTINCT (community_id, meter_id, seq)) AS distinctReadings FROM readings")).rows;
  query.close();
  const files = segmentFiles(archiveDir);
  rmSync(archiveDir, { recursive: true, force: true });
  const rows = Number(counts.total);
  const distinct = Number(counts.distinctReadings);
  const side = (name) => {
    const t = timing[name];
    const drainSeconds = (t.doneMs - t.firstDeliveryMs) / 1000;
    return {
      readingsPerSec: Math.round(readings / drainSeconds),
      drainSeconds: +drainSeconds.toFixed(2),
      startupSeconds: +(t.firstDeliveryMs / 1000).toFixed(2),
      cpuMicrosPerReading: +((t.cpuMs * 1000) / readings).toFixed(1),
      redelivered: t.redelivered,
    };
  };
  const result = {
    round: round + 1,
    spawnedFirst: order[0],
    aggregator: side("aggregator"),
    archiver: side("archiver"),
    rows,
    distinctReadings: distinct,
    exact: rows === readings && distinct === readings && files.temporary === 0,
    segments: files.segments,
    bytes: files.bytes,
    bytesPerReading: rows ? +(files.bytes / rows).toFixed(2) : 0,
  };
  result.ratio = +(result.archiver.readingsPerSec / result.aggregator.readingsPerSec).toFixed(2);
  process.stderr.write(
    `round ${result.round}: archiver ${result.archiver.readingsPerSec}/s, aggregator ${result.aggregator.readingsPerSec}/s (${result.ratio}×), ${rows} rows of ${readings}, ${files.segments} segments\n`,
  );
  return result;
}

const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const runs = [];
try {
  for (let round = 0; round < rounds; round += 1) runs.push(await runRound(round));
} finally {
  cache.disconnect();
  await nc.close();
  await servers.stop();
}

const summary = {
  readings,
  communities,
  metersPerCommunity: meters,
  spanMs,
  stepMs,
  flushEvery,
  rounds,
  archiverReadingsPerSec: Math.round(median(runs.map((r) => r.archiver.readingsPerSec))),
  aggregatorReadingsPerSec: Math.round(median(runs.map((r) => r.aggregator.readingsPerSec))),
  ratio: +median(runs.map((r) => r.ratio)).toFixed(2),
  targetRatio: TARGET_RATIO,
  bytesPerReading: +median(runs.map((r) => r.bytesPerReading)).toFixed(2),
  segments: median(runs.map((r) => r.segments)),
  exact: runs.every((r) => r.exact),
  runs,
};

const table = [
  ["", ...runs.map((r) => `round ${r.round}`), "median"],
  ["archiver readings/s", ...runs.map((r) => r.archiver.readingsPerSec.toLocaleString("en")), summary.archiverReadingsPerSec.toLocaleString("en")],
  ["aggregator readings/s", ...runs.map((r) => r.aggregator.readingsPerSec.toLocaleString("en")), summary.aggregatorReadingsPerSec.toLocaleString("en")],
  [`archiver ÷ aggregator (target ≥ ${TARGET_RATIO.toFixed(1)}×)`, ...runs.map((r) => `${r.ratio.toFixed(2)}×`), `${summary.ratio.toFixed(2)}× ${summary.ratio >= TARGET_RATIO ? "✓" : "✗"}`],
  ["CPU µs a reading: archiver / aggregator", ...runs.map((r) => `${r.archiver.cpuMicrosPerReading} / ${r.aggregator.cpuMicrosPerReading}`), ""],
  ["delivered again: archiver / aggregator", ...runs.map((r) => `${r.archiver.redelivered} / ${r.aggregator.redelivered}`), ""],
  ["bytes a stored reading", ...runs.map((r) => String(r.bytesPerReading)), String(summary.bytesPerReading)],
  ["segments", ...runs.map((r) => String(r.segments)), String(summary.segments)],
  ["rows = readings published", ...runs.map((r) => (r.exact ? "✓" : `✗ ${r.rows} rows, ${r.distinctReadings} distinct`)), summary.exact ? "✓" : "✗"],
];
const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
console.log(`archive ingest: ${readings.toLocaleString("en")} readings (${communities} communities × ${meters} meters, ${values.span} at ${values.step}), --flush-every ${flushEvery}`);
for (const row of table) console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  "));

mkdirSync(new URL("results/", import.meta.url), { recursive: true });
writeFileSync(new URL("results/archive-ingest.json", import.meta.url), `${JSON.stringify(summary, null, 2)}\n`);
if (!summary.exact) {
  console.error("The archive does not hold exactly one row per reading published.");
  process.exit(ExitCode.Failure);
}
if (summary.ratio < TARGET_RATIO) process.exit(ExitCode.Breached);

// ecwatch's SSE fan-out against its peer, nginx with the nchan module, in one run (issue 21):
// the same clients (one Node process of their own holding every SSE connection) and the same
// event stream (JSON aggregates with increasing `version`, round-robin over the communities), the
// servers one after the other, interleaved over the rounds. For ecwatch the events are published
// on the change feed (`ecagg.<id>`) and served by `ecwatch serve` (the built CLI, `--workers auto`
// and `--workers 1`); for nchan they are HTTP POSTs to its publisher location, served as an
// EventSource (`worker_processes 1` and `auto`). Delivery latency is from the publisher's clock
// just before the publish to the client's on arrival; server CPU is the server's process tree
// (nats-server's share, for ecwatch, apart) from the first publish until every client is up to date.
// Usage: npm run bench:sse-peers [-- --shapes 1000x200,5000x20 --communities 10 --duration 4s
//        --rounds 2 --servers ecwatch-auto,ecwatch-1,nchan-1,nchan-auto --baseline <dir>]
// `--baseline <dir>` adds servers `base-<n|auto>`: `ecwatch serve` of another build (a checkout
// with its own dist/, e.g. a `git worktree` of main, built), interleaved with this one in the same
// run, so a change is measured before and after on the same machine at the same moment.
// With ECWATCH_CPU_PROF=<dir>, every ecwatch process writes a V8 CPU profile (.cpuprofile) there.
// Prints a table and writes bench/results/sse-peers.json. Installs nginx-light and
// libnginx-mod-nchan with apt-get when they are missing.
import { execFileSync, fork, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, get, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { connect } from "@nats-io/transport-node";
import { forEachSseBlock } from "../dist/api/sse.js";
import { LatencyHistogram } from "../dist/bench/latency.js";
import { parseStat } from "../dist/bench/process-stats.js";
import { freePort } from "../dist/stack/ports.js";
import { changeFeedSubject } from "../dist/wire/names.js";
import { startServers } from "./servers.mjs";

const NCHAN_MODULE = "/usr/lib/nginx/modules/ngx_nchan_module.so";
/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
const nowMs = () => performance.timeOrigin + performance.now();

/**
 * The client process: connects `count` SSE clients (round-robin over the communities, in batches
 * so the listen backlog never overflows), then reports each event's delivery latency and the
 * versions a client never saw. Told the last version of each community, it waits until every
 * client has it (or 5 s) and answers with its figures.
 */
function runClients() {
  const { urlTemplate, communities, count } = JSON.parse(process.argv[3]);
  const histogram = new LatencyHistogram();
  const clients = Array.from({ length: count }, (_, i) => ({ communityId: communities[i % communities.length], last: 0 }));
  let delivered = 0;
  let missed = 0;
  let measuring = false;
  const parsed = new Map();
  const receive = (client, block) => {
    const dataAt = block.indexOf("data: ");
    if (dataAt < 0) return;
    const arrivedMs = nowMs();
    const end = block.indexOf("\n", dataAt);
    const data = block.slice(dataAt + 6, end < 0 ? undefined : end);
    // A community's clients receive the same text: parse it once.
    let event = parsed.get(client.communityId);
    if (event?.data !== data) {
      const value = JSON.parse(data);
      event = { data, version: value.version, sentMs: value.sentMs };
      parsed.set(client.communityId, event);
    }
    if (event.version <= client.last) return;
    if (client.last > 0 && event.version > client.last + 1) missed += event.version - client.last - 1;
    client.last = event.version;
    if (!measuring) return;
    delivered += 1;
    histogram.record(arrivedMs - event.sentMs);
  };
  const connectOne = (client) =>
    new Promise((resolve, reject) => {
      const req = get(urlTemplate.replace("{id}", client.communityId), { agent: false, headers: { accept: "text/event-stream" } }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`SSE client got HTTP ${res.statusCode}`));
        forEachSseBlock(res, (block) => receive(client, block));
        resolve();
      });
      req.on("error", (err) => reject(err));
      client.req = req;
    });
  process.on("message", async (message) => {
    if (message.type === "measure") {
      measuring = true;
      return;
    }
    const deadline = performance.now() + 5_000;
    const behind = () => clients.filter((c) => c.last < (message.last[c.communityId] ?? 0)).length;
    while (behind() > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const stillBehind = clients.filter((c) => c.last < (message.last[c.communityId] ?? 0));
    const missedAtEnd = stillBehind.reduce((sum, c) => sum + (message.last[c.communityId] - c.last), 0);
    process.send({ type: "done", doneAtMs: nowMs(), delivered, missed: missed + missedAtEnd, behind: stillBehind.length, latency: histogram.summary() });
    for (const c of clients) c.req.destroy();
    setTimeout(() => process.exit(0), 100);
  });
  (async () => {
    try {
      for (let i = 0; i < clients.length; i += 200) await Promise.all(clients.slice(i, i + 200).map(connectOne));
      process.send({ type: "ready" });
    } catch (err) {
      process.send({ type: "failed", message: err.message });
      process.exit(1);
    }
  })();
}

async function main() {
  const { values } = parseArgs({
    options: {
      shapes: { type: "string", default: "1000x200,5000x20" },
      communities: { type: "string", default: "10" },
      duration: { type: "string", default: "4s" },
      rounds: { type: "string", default: "2" },
      servers: { type: "string", default: "ecwatch-auto,ecwatch-1,nchan-1,nchan-auto" },
      baseline: { type: "string" },
    },
  });
  const shapes = values.shapes.split(",").map((shape) => {
    const match = /^(\d+)x(\d+)$/.exec(shape.trim());
    if (!match) throw new Error(`--shapes: "${shape}" is not <clients>x<events per second>, e.g. 1000x200`);
    return { clients: Number(match[1]), rate: Number(match[2]) };
  });
  const durationMatch = /^(\d+(?:\.\d+)?)(s|ms)?$/.exec(values.duration);
  if (!durationMatch) throw new Error(`--duration: "${values.duration}" is not a duration such as 4s or 500ms`);
  const durationMs = Number(durationMatch[1]) * (durationMatch[2] === "ms" ? 1 : 1000);
  const communityCount = Number(values.communities);
  const rounds = Number(values.rounds);
  if (!Number.isSafeInteger(communityCount) || communityCount < 1) throw new Error(`--communities: "${values.communities}" is not a positive whole number`);
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error(`--rounds: "${values.rounds}" is not a positive whole number`);
  const servers = values.servers.split(",").map((s) => s.trim());
  for (const server of servers) if (!/^(ecwatch|base|nchan)-(auto|\d+)$/.test(server)) throw new Error(`--servers: "${server}" is not ecwatch-<n|auto>, base-<n|auto> or nchan-<n|auto>`);
  if (servers.some((s) => s.startsWith("base")) && !values.baseline) throw new Error("--servers: base-<n|auto> needs --baseline <dir>, the other build");
  const baselineCli = values.baseline && join(values.baseline, "bin", "ecwatch");
  if (baselineCli && !existsSync(join(values.baseline, "dist", "cli.js"))) throw new Error(`--baseline: ${values.baseline} has no dist/cli.js: build it first (npm run build there)`);
  if (servers.some((s) => s.startsWith("nchan"))) ensureNginx();
  const communities = Array.from({ length: communityCount }, (_, i) => `community${i + 1}`);

  const backing = await startServers();
  const runs = [];
  try {
    for (let round = 1; round <= rounds; round += 1) {
      for (const shape of shapes) {
        for (const server of servers) {
          const result = await runOne(server, shape, communities, durationMs, backing, baselineCli);
          runs.push({ round, server, clients: shape.clients, rate: shape.rate, ...result });
          console.error(`round ${round} ${shape.clients}×${shape.rate}/s ${server}: p50 ${result.latency.p50} p99 ${result.latency.p99} max ${result.latency.max} ms, missed ${result.missed}, ${result.serverCpuMsPer1000} ms CPU/1,000 (+nats ${result.natsCpuMsPer1000 ?? "-"})`);
        }
      }
    }
  } finally {
    await backing.stop();
  }
  const summary = summarize(runs, shapes, servers);
  printTable(summary, shapes, servers, communityCount, rounds, durationMs);
  mkdirSync(new URL("results/", import.meta.url), { recursive: true });
  const out = { communities: communityCount, durationMs, rounds, cores: availableCores(), summary, runs };
  writeFileSync(new URL("results/sse-peers.json", import.meta.url), `${JSON.stringify(out, null, 2)}\n`);
  process.exit(0);
}

/** nginx and the nchan module through apt, as scripts/ensure-deps.sh installs the other servers. */
function ensureNginx() {
  const hasNginx = spawnSync("sh", ["-c", "command -v nginx"]).status === 0;
  if (hasNginx && existsSync(NCHAN_MODULE)) return;
  const packages = ["nginx-light", "libnginx-mod-nchan"];
  const root = process.getuid?.() === 0;
  const sudo = !root && spawnSync("sh", ["-c", "command -v sudo"]).status === 0;
  if (!root && !sudo) {
    console.error(`bench:sse-peers: nginx with the nchan module is missing; run as root: apt-get update && apt-get install -y --no-install-recommends ${packages.join(" ")}`);
    process.exit(1);
  }
  const run = (command, ...args) => execFileSync(sudo ? "sudo" : command, sudo ? [command, ...args] : args, { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  console.error(`bench:sse-peers: installing ${packages.join(" ")} with apt-get`);
  run("apt-get", "update", "-qq");
  run("apt-get", "install", "-y", "-qq", "--no-install-recommends", ...packages);
  // The Debian package may start a system nginx on port 80; this benchmark starts its own.
  if (spawnSync("sh", ["-c", "command -v systemctl"]).status === 0) {
    try {
      run("systemctl", "disable", "--now", "nginx");
    } catch {
      // No systemd running (a container): nothing was started.
    }
  }
}

function availableCores() {
  return Number(execFileSync("nproc", { encoding: "utf8" }).trim());
}

/** One server, one shape: start it, connect the clients, publish for `durationMs`, wait for every client, stop. */
async function runOne(server, shape, communities, durationMs, backing, baselineCli) {
  const [kind, workers] = server.split("-");
  const port = await freePort();
  const ecwatchCli = kind === "base" ? baselineCli : fileURLToPath(new URL("../bin/ecwatch", import.meta.url));
  const target = kind === "nchan" ? await startNchan(port, workers) : await startEcwatch(ecwatchCli, port, workers, backing);
  try {
    const clients = fork(fileURLToPath(import.meta.url), ["clients", JSON.stringify({ urlTemplate: target.urlTemplate, communities, count: shape.clients })], { stdio: "inherit" });
    const ready = await nextMessage(clients);
    if (ready.type !== "ready") throw new Error(`${server}: the SSE clients could not connect (${ready.message})`);
    // Every client is connected; let the subscriptions settle before the first event.
    await new Promise((resolve) => setTimeout(resolve, 500));
    clients.send({ type: "measure" });
    const serverBefore = treeCpuMs(target.pid);
    const natsBefore = kind !== "nchan" ? treeCpuMs(backing.nats.pid) : 0;
    const last = await publishFor(target.publish, communities, shape.rate, durationMs);
    clients.send({ type: "stop", last });
    const done = await nextMessage(clients);
    const serverCpuMs = treeCpuMs(target.pid) - serverBefore;
    const natsCpuMs = kind !== "nchan" ? treeCpuMs(backing.nats.pid) - natsBefore : undefined;
    const per1000 = (ms) => (ms === undefined ? undefined : Number(((ms * 1000) / Math.max(1, done.delivered)).toFixed(2)));
    return {
      delivered: done.delivered,
      expected: Object.values(last).reduce((a, b) => a + b, 0) * (shape.clients / communities.length),
      missed: done.missed,
      behind: done.behind,
      latency: done.latency,
      serverCpuMs,
      natsCpuMs,
      serverCpuMsPer1000: per1000(serverCpuMs),
      natsCpuMsPer1000: per1000(natsCpuMs),
    };
  } finally {
    await target.stop();
  }
}

const nextMessage = (child) =>
  new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`the SSE client process exited (${code})`)));
  });

/** Publishes `rate` events a second, round-robin over the communities, for `durationMs`; returns each community's last version. */
async function publishFor(publish, communities, rate, durationMs) {
  const versions = Object.fromEntries(communities.map((id) => [id, 0]));
  const total = Math.round((rate * durationMs) / 1000);
  const startMs = performance.now();
  const pending = [];
  for (let i = 0; i < total; i += 1) {
    const dueMs = startMs + (i * 1000) / rate;
    const waitMs = dueMs - performance.now();
    if (waitMs > 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
    const communityId = communities[i % communities.length];
    versions[communityId] += 1;
    const at = new Date().toISOString();
    const aggregate = { communityId, genW: 1234.5, conW: 2345.6, netW: -1111.1, meters: 20, stale: 0, measuredAt: at, aggregatedAt: at, version: versions[communityId], epoch: 1, sentMs: nowMs() };
    pending.push(publish(communityId, JSON.stringify(aggregate)));
  }
  await Promise.all(pending);
  return versions;
}

/** CPU time (ms) of a process and all its descendants, from /proc. */
function treeCpuMs(rootPid) {
  const parentOf = new Map();
  const stats = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    parentOf.set(Number(entry), Number(fields[1]));
    stats.set(Number(entry), stat);
  }
  let total = 0;
  for (const [pid, stat] of stats) {
    let p = pid;
    while (p > 1 && p !== rootPid) p = parentOf.get(p) ?? 0;
    if (p === rootPid) total += parseStat(stat).cpuMs;
  }
  return total;
}

async function startEcwatch(cli, port, workers, backing) {
  // ECWATCH_CPU_PROF=<dir>: each ecwatch process (the cluster's workers inherit it) writes a V8 CPU profile there when it stops.
  const profile = process.env.ECWATCH_CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", process.env.ECWATCH_CPU_PROF] : [];
  const child = spawn(process.execPath, [...profile, cli, "serve", "--nats", backing.nats.url, "--redis", backing.redis.url, "--port", String(port), "--workers", workers, "--log-level", "warn"], { stdio: ["ignore", "ignore", "pipe"] });
  // Its stderr is shown only when it fails: a started server prints its address there.
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  await waitHttp(port, "/metrics", child).catch((err) => {
    process.stderr.write(stderr);
    throw err;
  });
  const nc = await connect({ servers: backing.nats.url });
  return {
    pid: child.pid,
    urlTemplate: `http://127.0.0.1:${port}/communities/{id}/stream`,
    publish: (communityId, json) => nc.publish(changeFeedSubject(communityId), json),
    async stop() {
      await nc.drain();
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

async function startNchan(port, workers) {
  const dir = mkdtempSync(join(tmpdir(), "ecwatch-nchan-"));
  writeFileSync(join(dir, "nginx.conf"), nginxConfig(dir, port, workers));
  const child = spawn("nginx", ["-p", dir, "-c", join(dir, "nginx.conf"), "-g", "daemon off;"], { stdio: ["ignore", "ignore", "inherit"] });
  await waitHttp(port, "/ready", child);
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  return {
    pid: child.pid,
    urlTemplate: `http://127.0.0.1:${port}/sub/{id}`,
    publish: (communityId, json) =>
      new Promise((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, path: `/pub/${communityId}`, method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(json) } }, (res) => {
          res.resume();
          if (res.statusCode >= 300) reject(new Error(`nchan publisher answered HTTP ${res.statusCode}`));
          else resolve();
        });
        req.on("error", reject);
        req.end(json);
      }),
    async stop() {
      agent.destroy();
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGQUIT");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** nginx with nchan: a publisher and an EventSource subscriber location per channel (a community). */
function nginxConfig(dir, port, workers) {
  return `load_module ${NCHAN_MODULE};
worker_processes ${workers};
worker_rlimit_nofile 65536;
error_log ${join(dir, "error.log")} warn;
pid ${join(dir, "nginx.pid")};
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path ${join(dir, "body")};
  proxy_temp_path ${join(dir, "proxy")};
  fastcgi_temp_path ${join(dir, "fastcgi")};
  uwsgi_temp_path ${join(dir, "uwsgi")};
  scgi_temp_path ${join(dir, "scgi")};
  nchan_shared_memory_size 128M;
  server {
    listen 127.0.0.1:${port} backlog=8192;
    location = /ready { return 200 "ok"; }
    location ~ ^/pub/([A-Za-z0-9_-]+)$ {
      nchan_publisher;
      nchan_channel_id $1;
      nchan_message_buffer_length 16;
      nchan_message_timeout 60s;
    }
    location ~ ^/sub/([A-Za-z0-9_-]+)$ {
      nchan_subscriber eventsource;
      nchan_channel_id $1;
      nchan_subscriber_first_message newest;
    }
  }
}
`;
}

async function waitHttp(port, path, child) {
  let exited = false;
  child.once("exit", () => (exited = true));
  const deadline = performance.now() + 15_000;
  while (performance.now() < deadline && !exited) {
    const ok = await new Promise((resolve) => {
      get({ host: "127.0.0.1", port, path, agent: false }, (res) => (res.resume(), resolve(res.statusCode === 200))).on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the server on port ${port} did not answer ${path}${exited ? " (it exited)" : ""}`);
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

function summarize(runs, shapes, servers) {
  return shapes.map((shape) => {
    const per = Object.fromEntries(
      servers.map((server) => {
        const mine = runs.filter((r) => r.server === server && r.clients === shape.clients && r.rate === shape.rate);
        const pick = (f) => Number(median(mine.map(f)).toFixed(2));
        return [
          server,
          {
            p50: pick((r) => r.latency.p50),
            p99: pick((r) => r.latency.p99),
            max: pick((r) => r.latency.max),
            missed: mine.reduce((sum, r) => sum + r.missed, 0),
            cpuMsPer1000: pick((r) => r.serverCpuMsPer1000),
            ...(!server.startsWith("nchan") && { natsCpuMsPer1000: pick((r) => r.natsCpuMsPer1000) }),
          },
        ];
      }),
    );
    const ratios = {};
    for (const e of servers.filter((s) => !s.startsWith("nchan"))) {
      for (const n of servers.filter((s) => s.startsWith("nchan"))) {
        const a = per[e];
        const b = per[n];
        ratios[`${e} ÷ ${n}`] = {
          p99: Number((a.p99 / b.p99).toFixed(2)),
          cpu: Number((a.cpuMsPer1000 / b.cpuMsPer1000).toFixed(2)),
          cpuWithNats: Number(((a.cpuMsPer1000 + a.natsCpuMsPer1000) / b.cpuMsPer1000).toFixed(2)),
        };
      }
    }
    return { clients: shape.clients, rate: shape.rate, servers: per, ratios };
  });
}

function printTable(summary, shapes, servers, communities, rounds, durationMs) {
  console.log(`SSE fan-out, ${communities} communities, ${durationMs / 1000} s a run, medians of ${rounds} interleaved rounds; latency publish → client, CPU ms per 1,000 delivered events`);
  for (const s of summary) {
    console.log(`\n${s.clients.toLocaleString("en")} clients × ${s.rate} events/s`);
    console.log(`${"server".padEnd(14)} ${"p50".padStart(8)} ${"p99".padStart(8)} ${"max".padStart(8)} ${"missed".padStart(7)} ${"CPU/1k".padStart(8)} ${"nats/1k".padStart(8)}`);
    for (const server of servers) {
      const r = s.servers[server];
      console.log(`${server.padEnd(14)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${r.max.toFixed(2).padStart(8)} ${String(r.missed).padStart(7)} ${r.cpuMsPer1000.toFixed(2).padStart(8)} ${(r.natsCpuMsPer1000 === undefined ? "-" : r.natsCpuMsPer1000.toFixed(2)).padStart(8)}`);
    }
    for (const [pair, ratio] of Object.entries(s.ratios)) console.log(`${pair}: p99 ${ratio.p99}×, CPU ${ratio.cpu}× (${ratio.cpuWithNats}× with nats-server)`);
  }
}

if (process.argv[2] === "clients") runClients();
else await main();

import { colorsFor, formatKw, LiveBlock } from "../cli/output.js";
import { type AccessFlags, accessFromFlags } from "../cli/api-access.js";
import { untilSignal } from "../cli/signals.js";
import { wipeEverything } from "../app/adapters.js";
import { Started, startOwnNats, startOwnRedis } from "../app/stack.js";
import { ENV_NAMES, resolveSecurity, SECURITY_ENV_NAMES, type SecurityFlags } from "../config/connection-settings.js";
import type { Aggregate } from "../domain/aggregate.js";
import { foreignWriteMessage } from "../aggregator/foreign-writes.js";
import { EcwatchError, ExitCode, errorMessage, UsageError } from "../errors.js";
import type { Phase } from "../sim/cadence.js";
import { NO_FAULTS } from "../sim/faults.js";
import { planSimulation } from "../sim/setup.js";
import type { Simulator } from "../sim/simulator.js";
import type { LocalServer } from "../stack/local-server.js";
import { freePort, preferredOrFreePort } from "../stack/ports.js";
import { startApiPool } from "../app/api-pool.js";
import type { ApiAccess } from "../api/access.js";
import { type AggregationService, type ApiOptions, type ApiService, startAggregation, startApi, startSimulation } from "../app/services.js";
import { type ArchiveService, startArchiving, wipeArchive } from "../app/archive.js";
import { DEFAULT_ARCHIVE_DIR } from "../wire/archive-layout.js";
import { reapOrphans, removeState, runningStack, STATE_DIR, writeState } from "../stack/state-file.js";
import { redactUrl, withoutCredentials } from "../url.js";
import { resolve } from "node:path";

export interface UpFlags extends AccessFlags, SecurityFlags {
  readonly communities: number;
  readonly meters: number;
  /** A scenario name or file (default: --meters households, 40 % with PV). */
  readonly scenario?: string;
  readonly interval: number;
  /** When meters report within their interval (sim/cadence.ts). */
  readonly phase: Phase;
  /** Each reading moved by up to ± this fraction of its interval. */
  readonly jitter: number;
  readonly seed: number;
  /** The API's port; when not given, 8000 (the prototype's), or a free port when 8000 is busy. */
  readonly port?: number;
  readonly host: string;
  readonly fresh?: boolean;
  readonly nats?: string;
  readonly redis?: string;
  readonly staleAfter: number;
  /** Open nats-server's MQTT listener for devices: true for port 1883 when free, or this port. */
  readonly mqtt?: true | number;
  /** Start a JetStream cluster of this many nats-servers instead of one. */
  readonly cluster?: number;
  readonly json?: boolean;
  /** Processes serving the API (issue 21); default 1: the API runs in up's own process. */
  readonly apiWorkers?: number;
  /** Run an archiver in up's process (issue 22); `--no-archive` turns it off. Default true. */
  readonly archive: boolean;
  /** Where it archives, and where its API reads a meter's history; default `.ecwatch/archive`. */
  readonly archiveDir?: string;
}

/** The API as up's live status sees it: the SSE clients are known when it runs in this process. */
interface UpApi {
  readonly url: string;
  readonly sseClients?: () => number;
  stop(): Promise<void>;
}

/** The API's port when --port is not given: the prototype's phone app calls 8000. */
export const DEFAULT_API_PORT = 8000;

/** MQTT's registered port. */
const MQTT_PORT = 1883;

async function startApiWithFallback(natsUrl: string, redisUrl: string, flags: UpFlags, options: ApiOptions, warn: (text: string) => void): Promise<ApiService> {
  try {
    return await startApi(natsUrl, redisUrl, flags.host, flags.port ?? DEFAULT_API_PORT, options);
  } catch (err) {
    if (flags.port !== undefined || !(err instanceof EcwatchError) || err.code !== "PORT_IN_USE") throw err;
    const port = await freePort(flags.host);
    warn(`port ${DEFAULT_API_PORT} is in use; the API listens on ${port} instead (pass --port to choose)`);
    return startApi(natsUrl, redisUrl, flags.host, port, options);
  }
}

/**
 * `--api-workers n` > 1: n `serve --workers n` processes under up (node:cluster), with up's
 * connections, access flags and aggregator metrics. URLs (which may hold credentials) and the
 * token go in the workers' environment, not their command line, where `ps` would show them.
 */
/** The archive up writes, and its API reads meter histories from (with --no-archive: one another archiver may write there). */
const archiveDirOf = (flags: UpFlags): string => resolve(flags.archiveDir ?? DEFAULT_ARCHIVE_DIR);

async function startApiWorkers(natsUrl: string, redisUrl: string, flags: UpFlags, access: ApiAccess, aggregatorMetrics: AggregationService["metrics"], warn: (text: string) => void): Promise<UpApi> {
  const workers = flags.apiWorkers ?? 1;
  const port = flags.port ?? (await preferredOrFreePort(DEFAULT_API_PORT, flags.host));
  if (flags.port === undefined && port !== DEFAULT_API_PORT) warn(`port ${DEFAULT_API_PORT} is in use; the API listens on ${port} instead (pass --port to choose)`);
  const option = (name: string, value: string | undefined): string[] => (value === undefined ? [] : [name, value]);
  const args = [
    "serve",
    ...["--workers", String(workers), "--host", flags.host, "--port", String(port), "--stale-after", `${flags.staleAfter}ms`, "--archive-dir", archiveDirOf(flags)],
    ...["--rate-limit", flags.rateLimit === "off" ? "off" : `${flags.rateLimit}/s`],
    ...option("--rate-burst", flags.rateBurst?.toString()),
    ...option("--cors", flags.cors?.length ? flags.cors.join(",") : undefined),
    ...option("--nats-creds", flags.natsCreds),
    ...option("--nats-tls-ca", flags.natsTlsCa),
    ...option("--redis-tls-ca", flags.redisTlsCa),
  ];
  const env = { [ENV_NAMES.nats]: natsUrl, [ENV_NAMES.redis]: redisUrl, ...(access.token && { [SECURITY_ENV_NAMES.token]: access.token }) };
  return startApiPool(workers, {
    args,
    env,
    inProcessMetrics: [aggregatorMetrics],
    onExit: ({ pid, code, signal, replaceInMs }) => warn(`API worker ${pid} exited (${signal ?? `code ${code}`}); replacing it in ${replaceInMs} ms`),
  });
}

export async function runUp(flags: UpFlags): Promise<ExitCode> {
  const colors = colorsFor(process.stderr);
  const warn = (text: string): void => {
    process.stderr.write(`${colors.yellow("warning")} ${text}\n`);
  };
  if (flags.mqtt !== undefined && flags.nats) {
    throw new UsageError("--mqtt opens the MQTT listener of the nats-server that up starts, so it does not go with --nats.", "Drop --nats, or add an mqtt block to your own nats-server's configuration (docs/mqtt.md).");
  }
  if (flags.cluster !== undefined && flags.nats) {
    throw new UsageError("--cluster starts a cluster of nats-servers, so it does not go with --nats.", "Drop --nats, or list your own cluster's servers in --nats (docs/operating.md: Running on a NATS cluster).");
  }
  // Before anything starts: an exposed API without a token is refused.
  const access = accessFromFlags(flags);
  const security = resolveSecurity(flags);
  const running = runningStack(STATE_DIR);
  if (running) {
    throw new EcwatchError("STACK_RUNNING", `ecwatch up is already running here (pid ${running.pid}, API ${running.api}).`, {
      hint: "Use it (ecwatch tail community1), or stop it with Ctrl-C in its terminal.",
    });
  }
  const reaped = await reapOrphans(STATE_DIR);
  if (reaped.length) warn(`stopped servers left by an earlier ecwatch up that was killed (pids ${reaped.join(", ")})`);

  const started = new Started();
  const servers: LocalServer[] = [];
  const latest = new Map<string, Aggregate>();
  // Listen from the start: a Ctrl-C during start-up stops what has started so far, and a
  // second one kills the servers before exiting, so none is left behind unrecorded.
  let interrupted = false;
  const signal = untilSignal(() => servers.forEach((server) => server.kill()));
  void signal.then(() => (interrupted = true));
  const checkpoint = (): void => {
    if (interrupted) throw new StartInterrupted();
  };
  let mqttUrl: string | undefined;
  let archive: ArchiveService | undefined;
  // Absolute: the state file tells `query` and `export` where to read.
  const archiveDir = flags.archive ? archiveDirOf(flags) : undefined;
  const record = (api: string, nats: string, redis: string): void =>
    writeState(STATE_DIR, {
      pid: process.pid,
      api,
      // Never credentials on disk (issue 10): other commands pass their own (NATS_URL, REDIS_URL, flags).
      nats: withoutCredentials(nats),
      redis: withoutCredentials(redis),
      ...(mqttUrl && { mqtt: mqttUrl }),
      ...(archive && { archive: archiveDir }),
      servers: servers.map((s) => ({ kind: s.kind, pid: s.pid })),
      startedAt: new Date().toISOString(),
    });
  // Registered first, so removed last: until then the next `up` can find what is left.
  started.add(async () => removeState(STATE_DIR));
  try {
    const mqttPreferredPort = flags.mqtt === true ? MQTT_PORT : flags.mqtt;
    const nats = flags.nats ? undefined : await startOwnNats(flags.cluster, mqttPreferredPort, servers, started);
    const natsUrl = flags.nats ?? nats!.url;
    mqttUrl = nats?.mqttUrl;
    record("", natsUrl, flags.redis ?? "");
    checkpoint();
    const redisUrl = flags.redis ?? (await startOwnRedis(servers, started)).url;
    record("", natsUrl, redisUrl);
    checkpoint();
    if (flags.fresh) {
      await wipeEverything(natsUrl, redisUrl, security);
      // Its segments name sequences of the streams just wiped: the new streams count from 1 again.
      if (archiveDir) await wipeArchive(archiveDir);
    }

    const aggregation: AggregationService = await startAggregation(natsUrl, redisUrl, {
      staleAfterMs: flags.staleAfter,
      security,
      onAggregate: (aggregate) => latest.set(aggregate.communityId, aggregate),
      onError: (err) => warn(`aggregator: ${errorMessage(err)}`),
      onForeignWrite: (write) => warn(`aggregator: ${foreignWriteMessage(write)}`),
    });
    started.add(() => aggregation.stop());
    for (const change of aggregation.changes) process.stderr.write(`${colors.dim(change)}\n`);
    for (const warning of aggregation.warnings) warn(warning);
    checkpoint();

    // In this process, as the aggregator: its own consumers and leases, beside any other archiver on the stream.
    if (archiveDir) {
      archive = await startArchiving(natsUrl, archiveDir, { security, onError: (err) => warn(`archiver: ${errorMessage(err)}`) });
      started.add(() => archive!.stop());
      checkpoint();
    }

    // The aggregator runs in this process: one /metrics, the API's, serves both (issue 18).
    const api: UpApi =
      (flags.apiWorkers ?? 1) > 1
        ? await startApiWorkers(natsUrl, redisUrl, flags, access, aggregation.metrics, warn)
        : await startApiWithFallback(natsUrl, redisUrl, flags, { security, access, inProcessMetrics: [aggregation.metrics], staleAfterMs: flags.staleAfter, archiveDir: archiveDirOf(flags) }, warn).then((single) => ({
            url: single.url,
            sseClients: () => single.hub.clientCount(),
            stop: () => single.stop(),
          }));
    started.add(() => api.stop());
    checkpoint();

    let simulator: Simulator | undefined;
    if (flags.communities > 0) {
      const plan = planSimulation({ ...flags, level: "meter", intervalMs: flags.interval, faults: NO_FAULTS });
      const simulation = await startSimulation(natsUrl, security, plan.source, { speed: 1, staleAfterMs: flags.staleAfter });
      started.add(() => simulation.stop());
      simulator = simulation.simulator;
    }
    record(api.url, natsUrl, redisUrl);

    const ready = { api: api.url, nats: redactUrl(natsUrl), redis: redactUrl(redisUrl), ...(mqttUrl && { mqtt: mqttUrl }), ...(archive && { archive: archiveDir }) };
    process.stdout.write(flags.json ? `${JSON.stringify({ ready: true, ...ready })}\n` : `ready ${Object.entries(ready).map(([name, url]) => `${name}=${url}`).join(" ")}\n`);
    if (!flags.json) {
      const query = archive ? `   ·   ecwatch query "SELECT count(*) FROM readings"` : "";
      process.stderr.write(colors.dim(`try: ecwatch tail community1   ·   curl ${api.url}/communities${query}   ·   Ctrl-C stops everything\n`));
    }

    const stopStatus = flags.json ? () => undefined : showLiveStatus(latest, aggregation, api, simulator, archive);
    await signal;
    stopStatus();
  } catch (err) {
    if (!(err instanceof StartInterrupted)) throw err;
  } finally {
    if (interrupted) process.stderr.write("stopping…\n");
    await started.stopAll();
  }
  return ExitCode.Ok;
}

/** Thrown at a start-up checkpoint after Ctrl-C: not an error, just the way out. */
class StartInterrupted extends Error {}

/** Redraws the per-community status once a second; returns a function that stops it. */
function showLiveStatus(latest: Map<string, Aggregate>, aggregation: AggregationService, api: UpApi, simulator: Simulator | undefined, archive: ArchiveService | undefined): () => void {
  const colors = colorsFor(process.stderr);
  const block = new LiveBlock(process.stderr);
  let lastReadings = aggregation.aggregator.stats.readings;
  const render = (): void => {
    const { stats } = aggregation.aggregator;
    const rate = stats.readings - lastReadings;
    lastReadings = stats.readings;
    const rows = [...latest.values()]
      .sort((a, b) => a.communityId.localeCompare(b.communityId, undefined, { numeric: true }))
      .map((a) => {
        const net = a.netW >= 0 ? colors.green(formatKw(a.netW, true).padStart(11)) : colors.red(formatKw(a.netW, true).padStart(11));
        return `  ${a.communityId.padEnd(14)} net ${net}   gen ${formatKw(a.genW).padStart(10)}   con ${formatKw(a.conW).padStart(10)}   meters ${a.meters}${a.stale ? colors.yellow(` (+${a.stale} stale)`) : ""}`;
      });
    const footer = `  ${rate} readings/s · ${stats.readings} total · dead letters ${stats.deadLetters}${api.sseClients ? ` · SSE clients ${api.sseClients()}` : ""}${simulator ? ` · sim errors ${simulator.stats.errors}` : ""}${archive ? ` · archived ${archive.archiver.stats.archived}` : ""}`;
    block.render([...rows, colors.dim(footer)]);
  };
  const timer = setInterval(render, 1_000);
  return () => {
    clearInterval(timer);
    block.done();
  };
}

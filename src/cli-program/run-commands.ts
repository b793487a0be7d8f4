import { InvalidArgumentError } from "commander";
import type { AggregateFlags } from "../commands/aggregate.js";
import type { BenchFlags } from "../commands/bench.js";
import type { DoctorFlags } from "../commands/doctor.js";
import type { ResetFlags } from "../commands/reset.js";
import type { ServeFlags } from "../commands/serve.js";
import type { SimFlags } from "../commands/sim.js";
import type { UpFlags } from "../commands/up.js";
import { DEFAULTS } from "../config/defaults.js";
import { DEFAULT_ARCHIVE_DIR } from "../wire/archive-layout.js";
import { UsageError } from "../errors.js";
import {
  apiFlag,
  apiArchiveDirFlag,
  corsFlag,
  logLevelFlag,
  natsFlag,
  natsSecurityFlags,
  rateBurstFlag,
  rateLimitFlag,
  redisFlag,
  redisSecurityFlags,
  staleAfterFlag,
  tokenFlag,
} from "../cli/common-options.js";
import { type CommandSpec, durationFlag, type FlagSpec, optionTable } from "../cli/option-table.js";
import { faults, integer, oneOf, speed, timestamp, url } from "../cli/options.js";
import { PHASES, type Phase, parseJitter } from "../sim/cadence.js";
import { parseMaxRegression } from "../bench/regression.js";
import { parseThreshold, type Threshold, ThresholdError } from "../bench/thresholds.js";
import { TRANSPORTS } from "../sim/reading-sink.js";
import { BUILT_IN_SCENARIOS } from "../sim/scenario-names.js";
import { READING_LEVELS } from "../sim/sources.js";
import type { WorkerCount } from "../stack/worker-pool.js";

/**
 * The commands that run, measure or look after the pipeline, as data: one option table per
 * command, typed against the command's flags, and a lazy import of the command (so that
 * `--help` loads only what it shows).
 */

/** `--workers`: `auto` or a count from 1 to 64. */
function workers(value: string): WorkerCount {
  if (value === "auto") return "auto";
  try {
    return integer(1, 64)(value);
  } catch {
    throw new InvalidArgumentError("expected auto or a whole number from 1 to 64.");
  }
}

/** `--jitter`, its error sentence as commander's usage error (exit code 2). */
function jitter(value: string): number {
  try {
    return parseJitter(value);
  } catch (err) {
    throw new InvalidArgumentError(`${(err as Error).message}.`);
  }
}

/** `--phase` and `--jitter` of the commands that simulate meters (issue 17). */
const phaseFlag: FlagSpec<Phase> = {
  flags: "--phase <phase>",
  description: "spread: each meter reports at its own seeded offset within its interval; aligned: all meters in the same instant",
  parse: oneOf(PHASES),
  default: "spread",
};
const jitterFlag: FlagSpec<number> = { flags: "--jitter <fraction>", description: "move each reading by up to ± this fraction of its interval, seeded (e.g. 0.1; below 0.5)", parse: jitter, default: 0 };

/** `ecwatch up`: the whole stack with a live status. */
export const up: CommandSpec<UpFlags> = {
  name: "up",
  description: "start nats-server, redis-server, the aggregator, an archiver, the API and a simulator, with a live status",
  options: optionTable<UpFlags>()({
    communities: { flags: "--communities <n>", description: "simulated communities", parse: integer(0, 10_000), default: 5 },
    meters: { flags: "--meters <n>", description: "meters per community", parse: integer(1, 100_000), default: 20 },
    scenario: { flags: "--scenario <name|file>", description: `simulate this mix of meters instead: ${BUILT_IN_SCENARIOS.join(", ")}, or a JSON file` },
    interval: durationFlag("--interval <duration>", "time between two readings of a meter (a scenario group may set its own intervalMs)", { default: 1_000 }),
    phase: phaseFlag,
    jitter: jitterFlag,
    seed: { flags: "--seed <n>", description: "random seed of the simulation", parse: integer(0), default: 1 },
    port: { flags: "--port <n>", description: "API port (default: 8000, which the prototype's phone app calls; a free port when 8000 is busy)", parse: integer(0, 65_535) },
    host: { flags: "--host <addr>", description: "API address", default: "127.0.0.1" },
    token: tokenFlag,
    rateLimit: rateLimitFlag,
    rateBurst: rateBurstFlag,
    cors: corsFlag,
    fresh: { flags: "--fresh", description: "wipe stream, KV, cache and the archive's segments before starting" },
    nats: natsFlag,
    redis: redisFlag,
    staleAfter: staleAfterFlag,
    mqtt: { flags: "--mqtt [port]", description: "open nats-server's MQTT listener for meter devices (port 1883 when free)", parse: integer(1, 65_535) },
    cluster: { flags: "--cluster <n>", description: "start a JetStream cluster of n nats-servers instead of one (streams and KV get 3 replicas; from 3 on it survives the loss of a node)", parse: integer(3, 5) },
    json: { flags: "--json", description: "print the ready line as JSON and no live status" },
    apiWorkers: {
      flags: "--api-workers <n>",
      description: "processes serving the API on its port (as serve --workers; 1 keeps it in this process, beside the servers, aggregator and simulator it shares the cores with); each takes 1/n of --rate-limit",
      parse: integer(1, 64),
      default: 1,
    },
    archive: { flags: "--no-archive", description: "run no archiver (by default up archives every reading as Parquet, for ecwatch query)" },
    archiveDir: {
      flags: "--archive-dir <path>",
      description: `where up's archiver writes, and its API reads a meter's history (default: ${DEFAULT_ARCHIVE_DIR})`,
      conflicts: ["archive"],
    },
    ...natsSecurityFlags,
    ...redisSecurityFlags,
  }),
  examples: ["ecwatch up", "ecwatch up --communities 10 --meters 50 --fresh", "ecwatch up --no-archive", "ecwatch up --scenario village", "ecwatch up --mqtt --communities 0", "ecwatch up --cluster 3", "ecwatch up --communities 0 --nats nats://10.0.0.5:4222"],
  run: async (flags) => (await import("../commands/up.js")).runUp(flags),
};

/** The flags that shape a simulation: a replayed trace is published as recorded and takes none of them. */
const MODEL_FLAGS = ["scenario", "faults", "communities", "meters", "interval", "phase", "jitter", "duration", "seed", "level"] as const;

/** `ecwatch sim`: simulated meters publishing readings. */
export const sim: CommandSpec<SimFlags> = {
  name: "sim",
  description: "simulate the meters of energy communities publishing readings to JetStream",
  options: optionTable<SimFlags>()({
    communities: { flags: "--communities <n>", description: "communities community1..N (each a copy of the scenario, elsewhere, with other draws)", parse: integer(1, 10_000), default: 5 },
    scenario: { flags: "--scenario <name|file>", description: `a community's mix of meters: ${BUILT_IN_SCENARIOS.join(", ")}, or a JSON file (default: --meters households, 40 % with PV)` },
    meters: { flags: "--meters <n>", description: "meters per community of the default scenario", parse: integer(1, 100_000), default: 20 },
    interval: durationFlag("--interval <duration>", "data time between two readings of a meter (a scenario group may set its own intervalMs)", { default: 1_000 }),
    phase: phaseFlag,
    jitter: jitterFlag,
    start: { flags: "--start <time>", description: "data time of the first reading, ISO-8601 (default: now)", parse: timestamp },
    speed: { flags: "--speed <x>", description: "data time per wall-clock time, e.g. 60 = a minute a second; max = as fast as acknowledged", parse: speed, default: 1 },
    duration: durationFlag("--duration <duration>", "data time to simulate (default: until Ctrl-C)"),
    seed: { flags: "--seed <n>", description: "random seed: the same seed and --start give the same readings", parse: integer(0), default: 1 },
    level: { flags: "--level <level>", description: "meter readings, or the prototype's community-level ec.<id>.net readings", parse: oneOf(READING_LEVELS), default: "meter" },
    faults: { flags: "--faults <spec>", description: "inject faults: dropout=P,duplicate=P,reorder=P,malformed=P,offline=P (per reading; offline per minute),skew=<duration>", parse: faults },
    record: { flags: "--record <file>", description: "write every published message to an NDJSON trace" },
    replay: { flags: "--replay <file>", description: "publish a recorded trace instead, paced by its data time and --speed, moved to start at --start (default: now)" },
    originalTime: { flags: "--original-time", description: "with --replay: keep the trace's own times instead of moving it to --start" },
    staleAfter: staleAfterFlag,
    transport: {
      flags: "--transport <name>",
      description: "jetstream: publish to JetStream with de-duplication ids; mqtt: QoS 1 on ec/<community>/meter/<meter>, as a meter device does",
      parse: oneOf(TRANSPORTS),
      default: "jetstream",
    },
    nats: natsFlag,
    mqtt: { flags: "--mqtt <url>", description: `with --transport mqtt: the MQTT listener (env MQTT_URL; default: a running \`ecwatch up --mqtt\`, else ${DEFAULTS.mqtt})`, parse: url(["mqtt", "mqtts", "tcp", "ws", "wss"]) },
    json: {
      flags: "--json",
      description: "print {published, errors, communities: {id: {genW, conW, meters, stale}}, faults, energy, truthEnergy} at exit (energy: the models' own; truthEnergy: by the rule, from what was acknowledged, as far as final)",
    },
    ...natsSecurityFlags,
  }),
  examples: [
    "ecwatch sim --communities 5",
    "ecwatch sim --scenario village --start 2026-06-21T00:00:00Z --duration 1d --interval 1m --speed max --json",
    "ecwatch sim --scenario mixed-cadence --communities 1 --start 2026-06-21T06:00:00Z --duration 6h --speed max --json",
    "ecwatch sim --phase aligned --jitter 0.1",
    "ecwatch sim --faults dropout=0.01,duplicate=0.01,reorder=0.01,skew=2s,malformed=0.001,offline=0.001",
    "ecwatch sim --replay fixtures/traces/village-june-day.ndjson --start 2026-11-22T00:00:00Z --speed 3600",
    "ecwatch sim --level community --communities 1",
    "ecwatch sim --transport mqtt --mqtt mqtt://127.0.0.1:1883",
  ],
  check: (flags, given) => {
    if (flags.scenario && given("meters")) throw new UsageError("--meters sets the size of the default scenario; a --scenario sets its own meters.", "Drop one of them.");
    // A trace is replayed as recorded: the flags that shape a simulation would be silently ignored.
    const modelFlag = flags.replay ? MODEL_FLAGS.find(given) : undefined;
    if (modelFlag) throw new UsageError(`--replay publishes a recorded trace as it is; it takes no --${modelFlag}.`, "Drop it, or simulate instead of replaying.");
  },
  run: async (flags) => (await import("../commands/sim.js")).runSim(flags),
};

/** `--threshold`, repeatable: each expression parsed, a bad one a usage error (exit code 2) naming the valid metrics. */
function threshold(value: string, previous: readonly Threshold[] = []): Threshold[] {
  try {
    return [...previous, parseThreshold(value)];
  } catch (err) {
    if (err instanceof ThresholdError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

function maxRegression(value: string): number {
  const percent = parseMaxRegression(value);
  if (percent === undefined) throw new InvalidArgumentError("expected a percentage like 10% (0 to 1000).");
  return percent;
}

/** `ecwatch bench`: the pipeline measured; exit code 99 when a check fails (issue 20). */
export const bench: CommandSpec<BenchFlags> = {
  name: "bench",
  description: "measure the pipeline: readings/s with zero loss, end-to-end latency in its hops, CPU and memory, against a raw JetStream baseline of the same run; thresholds, plans and CI reports",
  options: optionTable<BenchFlags>()({
    communities: { flags: "--communities <n>", description: "simulated communities", parse: integer(1, 10_000), default: 10 },
    meters: { flags: "--meters <n>", description: "meters per community", parse: integer(1, 100_000), default: 100 },
    scenario: { flags: "--scenario <name|file>", description: `a community's mix of meters instead of --meters households: ${BUILT_IN_SCENARIOS.join(", ")}, or a JSON file` },
    rate: { flags: "--rate <readings/s>", description: "readings per second, all communities together (with --find-max: where the ramp starts; replaces a plan's stages)", parse: integer(1, 10_000_000), default: 10_000 },
    duration: durationFlag("--duration <duration>", "length of each run (replaces a plan's stages)", { min: 1_000, default: 10_000 }),
    clients: { flags: "--clients <n>", description: "SSE clients, spread over the communities", parse: integer(1, 100_000), default: 100 },
    phase: { ...phaseFlag, defaultText: "spread (aligned: every meter of a moment in one burst, a stress shape)" },
    plan: { flags: "--plan <file>", description: "a load test as a YAML or JSON file: communities, meters, scenario, clients, faults, phase, startRate, stages [{duration, rate}] (ramped linearly), thresholds; flags override it" },
    threshold: {
      flags: "--threshold <expr>",
      description: "fail with exit code 99 unless <metric><op><value> holds, e.g. 'e2e.p99<250ms', 'lost==0', 'cpu.aggregator<80%' (repeatable; metrics: see docs/load-testing.md)",
      parse: threshold,
    },
    junit: { flags: "--junit <file>", description: "write a JUnit XML report: a test case per check, a <failure> with the measured value and the limit" },
    summary: { flags: "--summary <file>", description: 'append a Markdown summary (e.g. "$GITHUB_STEP_SUMMARY")' },
    compare: { flags: "--compare <report.json>", description: "compare with a report saved by --out: figures normalised by each run's raw baseline (ratio, e2e ÷ raw hop, CPU per reading)" },
    maxRegression: { flags: "--max-regression <n%>", description: "with --compare: the most a figure may get worse (default 10%)", parse: maxRegression },
    findMax: {
      flags: "--find-max",
      description: "ramp the rate up by 25 % per run until a run loses a reading, misses the totals, or does not sustain the rate (backlog left after 1 s, or p99 over 1 s)",
    },
    maxRate: { flags: "--max-rate <readings/s>", description: "with --find-max: stop the ramp here", parse: integer(1, 10_000_000), default: 400_000 },
    baselineReadings: { flags: "--baseline-readings <n>", description: "readings for the raw JetStream baseline", parse: integer(1_000), default: 200_000 },
    seed: { flags: "--seed <n>", description: "random seed of the simulation", parse: integer(0), default: 1 },
    faults: { flags: "--faults <spec>", description: "inject faults as in sim (e.g. duplicate=0.01,reorder=0.01,malformed=0.001); the totals must still be exact", parse: faults },
    nats: natsFlag,
    redis: redisFlag,
    api: { flags: "--api <url>", description: "an API already running with its aggregator (needs --nats): nothing of ecwatch is started", parse: url(["http", "https"]) },
    out: { flags: "--out <file>", description: "also write the JSON report to this file" },
    json: { flags: "--json", description: "print one JSON object at the end" },
    ...natsSecurityFlags,
    ...redisSecurityFlags,
  }),
  examples: [
    "ecwatch bench",
    "ecwatch bench --rate 20000 --duration 20s --clients 1000 --threshold 'e2e.p99<250ms' --threshold lost==0",
    'ecwatch bench --plan examples/bench-plan.yaml --junit bench.xml --summary "$GITHUB_STEP_SUMMARY"',
    "ecwatch bench --plan examples/bench-plan.yaml --compare last-good.json --max-regression 15%",
    "ecwatch bench --find-max --json",
    "ecwatch bench --communities 50 --meters 2000 --rate 50000 --out bench/results/bench.json",
  ],
  helpAfter: `
Exit codes:
  0   the run completed and every check passed
  1   the run could not complete (a crash, a server gone), whatever its thresholds
  2   bad usage: a flag, a threshold expression, the plan file
  99  the run completed, but a threshold, its own zero-loss or exact-totals check, or a --compare regression failed
`,
  run: async (flags, _argument, given) => (await import("../commands/bench.js")).runBench(flags, given),
};

/** `ecwatch aggregate`: one aggregator. */
export const aggregate: CommandSpec<AggregateFlags> = {
  name: "aggregate",
  description: "run an aggregator (several share the partitions): readings → exact community totals in Redis, NATS KV and the change feed",
  options: optionTable<AggregateFlags>()({
    nats: natsFlag,
    redis: redisFlag,
    staleAfter: staleAfterFlag,
    retentionAge: durationFlag("--retention-age <duration>", "keep readings in the reading streams (EC_STREAM and its partitions) this long", { default: 7 * 86_400_000 }),
    retentionBytes: {
      flags: "--retention-bytes <n>",
      description: "largest size of the readings in bytes: the partitions share it, EC_STREAM (unpartitioned readings) may take as much again",
      parse: integer(1_048_576),
      default: 1024 ** 3,
    },
    json: { flags: "--json", description: "print every new aggregate as a JSON line" },
    metricsPort: { flags: "--metrics-port <n>", description: "serve Prometheus metrics at http://<metrics-host>:<n>/metrics (0: a free port; default: off)", parse: integer(0, 65_535) },
    metricsHost: { flags: "--metrics-host <addr>", description: "address of the metrics endpoint", default: "127.0.0.1" },
    logLevel: logLevelFlag,
    ...natsSecurityFlags,
    ...redisSecurityFlags,
  }),
  examples: ["ecwatch aggregate", "ecwatch aggregate --nats nats://127.0.0.1:4222 --redis redis://127.0.0.1:6379 --stale-after 1m", "ecwatch aggregate --metrics-port 9464 --log-level debug"],
  run: async (flags) => (await import("../commands/aggregate.js")).runAggregate(flags),
};

/** `ecwatch serve`: the REST + SSE API. */
export const serve: CommandSpec<ServeFlags> = {
  name: "serve",
  description: "run the REST + SSE API (the prototype's endpoints)",
  options: optionTable<ServeFlags>()({
    nats: natsFlag,
    redis: redisFlag,
    port: { flags: "--port <n>", description: "port", parse: integer(0, 65_535), default: 8000 },
    host: { flags: "--host <addr>", description: "address to listen on", default: "127.0.0.1" },
    token: tokenFlag,
    rateLimit: rateLimitFlag,
    rateBurst: rateBurstFlag,
    cors: corsFlag,
    staleAfter: { ...staleAfterFlag, description: "the aggregator's --stale-after: GET /communities/{id}/meters judges staleness with it, as the totals do" },
    archiveDir: apiArchiveDirFlag,
    logLevel: logLevelFlag,
    workers: {
      flags: "--workers <n|auto>",
      description: "processes serving the API on the one port (auto: one per core; 1: this process alone); each takes 1/n of --rate-limit",
      parse: workers,
      default: "auto",
    },
    ...natsSecurityFlags,
    ...redisSecurityFlags,
  }),
  examples: ["ecwatch serve", "ecwatch serve --port 8080", "ecwatch serve --workers 1", "curl http://127.0.0.1:8000/communities/community1", "curl http://127.0.0.1:8000/metrics", "ecwatch serve --log-level warn 2>> api.log"],
  run: async (flags) => (await import("../commands/serve.js")).runServe(flags),
};

/** `ecwatch reset`: stream, KV and cache wiped. */
export const reset: CommandSpec<ResetFlags> = {
  name: "reset",
  description: "wipe the stream, the KV buckets and the cache (stop `ecwatch up` first)",
  options: optionTable<ResetFlags>()({ nats: natsFlag, redis: redisFlag, ...natsSecurityFlags, ...redisSecurityFlags }),
  examples: ["ecwatch reset", "ecwatch reset --nats nats://127.0.0.1:4222 --redis redis://127.0.0.1:6379"],
  run: async (flags) => (await import("../commands/reset.js")).runReset(flags),
};

/** `ecwatch doctor`: checks with fixes. */
export const doctor: CommandSpec<DoctorFlags> = {
  name: "doctor",
  description: "check Node, nats-server, redis-server, ports and a running stack; say how to fix problems",
  options: optionTable<DoctorFlags>()({
    nats: natsFlag,
    redis: redisFlag,
    api: apiFlag,
    json: { flags: "--json", description: "print the checks as JSON" },
    ...natsSecurityFlags,
    ...redisSecurityFlags,
  }),
  examples: ["ecwatch doctor", "ecwatch doctor --json"],
  run: async (flags) => (await import("../commands/doctor.js")).runDoctor(flags),
};

import { type Command, InvalidArgumentError, Option } from "commander";
import { DEFAULTS } from "../config/connection-settings.js";
import { UsageError } from "../errors.js";
import { apiOption, corsOption, examples, logLevelOption, natsOption, rateBurstOption, rateLimitOption, redisOption, staleOption, tokenOption } from "../cli/common-options.js";
import type { StatusReport } from "../cli/exit.js";
import { duration, faults, integer, oneOf, speed, timestamp, url } from "../cli/options.js";
import { parseMaxRegression } from "../bench/regression.js";
import { parseThreshold, type Threshold, ThresholdError } from "../bench/thresholds.js";
import { PHASES, parseJitter } from "../sim/cadence.js";
import { NO_FAULTS } from "../sim/faults.js";
import { BUILT_IN_SCENARIOS } from "../sim/setup.js";
import { TRANSPORTS } from "../sim/reading-sink.js";
import { READING_LEVELS } from "../sim/sources.js";

/** `--jitter`, its error sentence as commander's usage error (exit code 2). */
function jitter(value: string): number {
  try {
    return parseJitter(value);
  } catch (err) {
    throw new InvalidArgumentError(`${(err as Error).message}.`);
  }
}

/** `--phase` and `--jitter` of the commands that simulate meters (issue 17). */
const phaseOption = (): Option =>
  new Option("--phase <phase>", "spread: each meter reports at its own seeded offset within its interval; aligned: all meters in the same instant").argParser(oneOf(PHASES)).default("spread");
const jitterOption = (): Option => new Option("--jitter <fraction>", "move each reading by up to ± this fraction of its interval, seeded (e.g. 0.1; below 0.5)").argParser(jitter).default(0);

/**
 * The commands that run, measure or look after the pipeline: their flags as a table, and an
 * action that imports the command lazily (so `--help` stays instant) and reports its status.
 */

/** `ecwatch up`: the whole stack with a live status. */
export function addUpCommand(program: Command, report: StatusReport): void {
  program
    .command("up")
    .description("start nats-server, redis-server, the aggregator, the API and a simulator, with a live status")
    .option("--communities <n>", "simulated communities", integer(0, 10_000), 5)
    .option("--meters <n>", "meters per community", integer(1, 100_000), 20)
    .option("--scenario <name|file>", `simulate this mix of meters instead: ${BUILT_IN_SCENARIOS.join(", ")}, or a JSON file`)
    .option("--interval <duration>", "time between two readings of a meter (a scenario group may set its own intervalMs)", duration(), 1_000)
    .addOption(phaseOption())
    .addOption(jitterOption())
    .option("--seed <n>", "random seed of the simulation", integer(0), 1)
    .option("--port <n>", "API port (the prototype's phone app calls 8000)", integer(0, 65_535), 8000)
    .option("--host <addr>", "API address", "127.0.0.1")
    .addOption(tokenOption())
    .addOption(rateLimitOption())
    .addOption(rateBurstOption())
    .addOption(corsOption())
    .option("--fresh", "wipe stream, KV and cache before starting")
    .addOption(natsOption())
    .addOption(redisOption())
    .addOption(staleOption())
    .option("--mqtt [port]", "open nats-server's MQTT listener for meter devices (port 1883 when free)", integer(1, 65_535))
    .option("--cluster <n>", "start a JetStream cluster of n nats-servers instead of one (streams and KV get 3 replicas; from 3 on it survives the loss of a node)", integer(3, 5))
    .option("--json", "print the ready line as JSON and no live status")
    .addHelpText("after", examples("ecwatch up", "ecwatch up --communities 10 --meters 50 --fresh", "ecwatch up --scenario village", "ecwatch up --mqtt --communities 0", "ecwatch up --cluster 3", "ecwatch up --communities 0 --nats nats://10.0.0.5:4222"))
    .action(async (flags, command: Command) => {
      const { runUp } = await import("../commands/up.js");
      report(await runUp({ ...flags, portFromUser: command.getOptionValueSource("port") !== "default" }));
    });
}

/** `ecwatch sim`: simulated meters publishing readings. */
export function addSimCommand(program: Command, report: StatusReport): void {
  program
    .command("sim")
    .description("simulate the meters of energy communities publishing readings to JetStream")
    .option("--communities <n>", "communities community1..N (each a copy of the scenario, elsewhere, with other draws)", integer(1, 10_000), 5)
    .option("--scenario <name|file>", `a community's mix of meters: ${BUILT_IN_SCENARIOS.join(", ")}, or a JSON file (default: --meters households, 40 % with PV)`)
    .option("--meters <n>", "meters per community of the default scenario", integer(1, 100_000), 20)
    .option("--interval <duration>", "data time between two readings of a meter (a scenario group may set its own intervalMs)", duration(), 1_000)
    .addOption(phaseOption())
    .addOption(jitterOption())
    .addOption(new Option("--start <time>", "data time of the first reading, ISO-8601 (default: now)").argParser(timestamp))
    .addOption(new Option("--speed <x>", "data time per wall-clock time, e.g. 60 = a minute a second; max = as fast as acknowledged").argParser(speed).default(1))
    .option("--duration <duration>", "data time to simulate (default: until Ctrl-C)", duration())
    .option("--seed <n>", "random seed: the same seed and --start give the same readings", integer(0), 1)
    .addOption(new Option("--level <level>", "meter readings, or the prototype's community-level ec.<id>.net readings").argParser(oneOf(READING_LEVELS)).default("meter"))
    .addOption(new Option("--faults <spec>", "inject faults: dropout=P,duplicate=P,reorder=P,malformed=P,offline=P (per reading; offline per minute),skew=<duration>").argParser(faults))
    .option("--record <file>", "write every published message to an NDJSON trace")
    .option("--replay <file>", "publish a recorded trace instead, paced by its data time and --speed, moved to start at --start (default: now)")
    .option("--original-time", "with --replay: keep the trace's own times instead of moving it to --start")
    .addOption(staleOption())
    .addOption(new Option("--transport <name>", "jetstream: publish to JetStream with de-duplication ids; mqtt: QoS 1 on ec/<community>/meter/<meter>, as a meter device does").argParser(oneOf(TRANSPORTS)).default("jetstream"))
    .addOption(natsOption())
    .addOption(new Option("--mqtt <url>", `with --transport mqtt: the MQTT listener (env MQTT_URL; default: a running \`ecwatch up --mqtt\`, else ${DEFAULTS.mqtt})`).argParser(url(["mqtt", "mqtts", "tcp", "ws", "wss"])))
    .option("--json", "print {published, errors, communities: {id: {genW, conW, meters, stale}}, faults, energy, truthEnergy} at exit (energy: the models' own; truthEnergy: by the rule, from what was acknowledged, as far as final)")
    .addHelpText(
      "after",
      examples(
        "ecwatch sim --communities 5",
        "ecwatch sim --scenario village --start 2026-06-21T00:00:00Z --duration 1d --interval 1m --speed max --json",
        "ecwatch sim --scenario mixed-cadence --communities 1 --start 2026-06-21T06:00:00Z --duration 6h --speed max --json",
        "ecwatch sim --phase aligned --jitter 0.1",
        "ecwatch sim --faults dropout=0.01,duplicate=0.01,reorder=0.01,skew=2s,malformed=0.001,offline=0.001",
        "ecwatch sim --replay fixtures/traces/village-june-day.ndjson --start 2026-11-22T00:00:00Z --speed 3600",
        "ecwatch sim --level community --communities 1",
        "ecwatch sim --transport mqtt --mqtt mqtt://127.0.0.1:1883",
      ),
    )
    .action(async (flags, command: Command) => {
      if (flags.scenario && command.getOptionValueSource("meters") === "cli") {
        throw new UsageError("--meters sets the size of the default scenario; a --scenario sets its own meters.", "Drop one of them.");
      }
      if (flags.replay) {
        // A trace is replayed as recorded: the flags that shape a simulation would be silently ignored.
        const modelFlags = ["scenario", "faults", "communities", "meters", "interval", "phase", "jitter", "duration", "seed", "level"];
        const given = modelFlags.find((name) => command.getOptionValueSource(name) === "cli");
        if (given) throw new UsageError(`--replay publishes a recorded trace as it is; it takes no --${given}.`, "Drop it, or simulate instead of replaying.");
      }
      const { runSim } = await import("../commands/sim.js");
      report(await runSim({ ...flags, intervalMs: flags.interval, startMs: flags.start, durationMs: flags.duration, faults: flags.faults ?? NO_FAULTS }));
    });
}

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
export function addBenchCommand(program: Command, report: StatusReport): void {
  program
    .command("bench")
    .description("measure the pipeline: readings/s with zero loss, end-to-end latency in its hops, CPU and memory, against a raw JetStream baseline of the same run; thresholds, plans and CI reports")
    .option("--communities <n>", "simulated communities", integer(1, 10_000), 10)
    .option("--meters <n>", "meters per community", integer(1, 100_000), 100)
    .option("--scenario <name|file>", `a community's mix of meters instead of --meters households: ${BUILT_IN_SCENARIOS.join(", ")}, or a JSON file`)
    .option("--rate <readings/s>", "readings per second, all communities together (with --find-max: where the ramp starts; replaces a plan's stages)", integer(1, 10_000_000), 10_000)
    .addOption(new Option("--duration <duration>", "length of each run (replaces a plan's stages)").argParser(duration(1_000)).default(10_000, "10s"))
    .option("--clients <n>", "SSE clients, spread over the communities", integer(1, 100_000), 100)
    .addOption(phaseOption().default("spread", "spread (aligned: every meter of a moment in one burst, a stress shape)"))
    .option("--plan <file>", "a load test as a YAML or JSON file: communities, meters, scenario, clients, faults, phase, startRate, stages [{duration, rate}] (ramped linearly), thresholds; flags override it")
    .option("--threshold <expr>", "fail with exit code 99 unless <metric><op><value> holds, e.g. 'e2e.p99<250ms', 'lost==0', 'cpu.aggregator<80%' (repeatable; metrics: see docs/load-testing.md)", threshold)
    .option("--junit <file>", "write a JUnit XML report: a test case per check, a <failure> with the measured value and the limit")
    .option("--summary <file>", "append a Markdown summary (e.g. \"$GITHUB_STEP_SUMMARY\")")
    .option("--compare <report.json>", "compare with a report saved by --out: figures normalised by each run's raw baseline (ratio, e2e ÷ raw hop, CPU per reading)")
    .option("--max-regression <n%>", "with --compare: the most a figure may get worse (default 10%)", maxRegression)
    .option("--find-max", "ramp the rate up by 25 % per run until a run loses a reading, misses the totals, or does not sustain the rate (backlog left after 1 s, or p99 over 1 s)")
    .option("--max-rate <readings/s>", "with --find-max: stop the ramp here", integer(1, 10_000_000), 400_000)
    .option("--baseline-readings <n>", "readings for the raw JetStream baseline", integer(1_000), 200_000)
    .option("--seed <n>", "random seed of the simulation", integer(0), 1)
    .addOption(new Option("--faults <spec>", "inject faults as in sim (e.g. duplicate=0.01,reorder=0.01,malformed=0.001); the totals must still be exact").argParser(faults))
    .addOption(natsOption())
    .addOption(redisOption())
    .addOption(new Option("--api <url>", "an API already running with its aggregator (needs --nats): nothing of ecwatch is started").argParser(url(["http", "https"])))
    .option("--out <file>", "also write the JSON report to this file")
    .option("--json", "print one JSON object at the end")
    .addHelpText(
      "after",
      `${examples(
        "ecwatch bench",
        "ecwatch bench --rate 20000 --duration 20s --clients 1000 --threshold 'e2e.p99<250ms' --threshold lost==0",
        "ecwatch bench --plan examples/bench-plan.yaml --junit bench.xml --summary \"$GITHUB_STEP_SUMMARY\"",
        "ecwatch bench --plan examples/bench-plan.yaml --compare last-good.json --max-regression 15%",
        "ecwatch bench --find-max --json",
        "ecwatch bench --communities 50 --meters 2000 --rate 50000 --out bench/results/bench.json",
      )}
Exit codes:
  0   the run completed and every check passed
  1   the run could not complete (a crash, a server gone), whatever its thresholds
  2   bad usage: a flag, a threshold expression, the plan file
  99  the run completed, but a threshold, its own zero-loss or exact-totals check, or a --compare regression failed
`,
    )
    .action(async (flags, command: Command) => {
      const given = new Set(command.options.map((o) => o.attributeName()).filter((name) => command.getOptionValueSource(name) === "cli"));
      const { runBench } = await import("../commands/bench.js");
      report(await runBench({ ...flags, given }));
    });
}

/** `ecwatch aggregate`: one aggregator. */
export function addAggregateCommand(program: Command, report: StatusReport): void {
  program
    .command("aggregate")
    .description("run an aggregator (several share the partitions): readings → exact community totals in Redis, NATS KV and the change feed")
    .addOption(natsOption())
    .addOption(redisOption())
    .addOption(staleOption())
    .option("--retention-age <duration>", "keep readings in the reading streams (EC_STREAM and its partitions) this long", duration(), 7 * 86_400_000)
    .option("--retention-bytes <n>", "largest size of the readings in bytes: the partitions share it, EC_STREAM (unpartitioned readings) may take as much again", integer(1_048_576), 1024 ** 3)
    .option("--json", "print every new aggregate as a JSON line")
    .option("--metrics-port <n>", "serve Prometheus metrics at http://<metrics-host>:<n>/metrics (0: a free port; default: off)", integer(0, 65_535))
    .option("--metrics-host <addr>", "address of the metrics endpoint", "127.0.0.1")
    .addOption(logLevelOption())
    .addHelpText("after", examples("ecwatch aggregate", "ecwatch aggregate --nats nats://127.0.0.1:4222 --redis redis://127.0.0.1:6379 --stale-after 1m", "ecwatch aggregate --metrics-port 9464 --log-level debug"))
    .action(async (flags) => {
      const { runAggregate } = await import("../commands/aggregate.js");
      report(await runAggregate(flags));
    });
}

/** `ecwatch serve`: the REST + SSE API. */
export function addServeCommand(program: Command, report: StatusReport): void {
  program
    .command("serve")
    .description("run the REST + SSE API (the prototype's endpoints)")
    .addOption(natsOption())
    .addOption(redisOption())
    .option("--port <n>", "port", integer(0, 65_535), 8000)
    .option("--host <addr>", "address to listen on", "127.0.0.1")
    .addOption(tokenOption())
    .addOption(rateLimitOption())
    .addOption(rateBurstOption())
    .addOption(corsOption())
    .addOption(logLevelOption())
    .addHelpText("after", examples("ecwatch serve", "ecwatch serve --port 8080", "curl http://127.0.0.1:8000/communities/community1", "curl http://127.0.0.1:8000/metrics", "ecwatch serve --log-level warn 2>> api.log"))
    .action(async (flags) => {
      const { runServe } = await import("../commands/serve.js");
      report(await runServe(flags));
    });
}

/** `ecwatch reset`: stream, KV and cache wiped. */
export function addResetCommand(program: Command, report: StatusReport): void {
  program
    .command("reset")
    .description("wipe the stream, the KV buckets and the cache (stop `ecwatch up` first)")
    .addOption(natsOption())
    .addOption(redisOption())
    .addHelpText("after", examples("ecwatch reset", "ecwatch reset --nats nats://127.0.0.1:4222 --redis redis://127.0.0.1:6379"))
    .action(async (flags) => {
      const { runReset } = await import("../commands/reset.js");
      report(await runReset(flags));
    });
}

/** `ecwatch doctor`: checks with fixes. */
export function addDoctorCommand(program: Command, report: StatusReport): void {
  program
    .command("doctor")
    .description("check Node, nats-server, redis-server, ports and a running stack; say how to fix problems")
    .addOption(natsOption())
    .addOption(redisOption())
    .addOption(apiOption())
    .option("--json", "print the checks as JSON")
    .addHelpText("after", examples("ecwatch doctor", "ecwatch doctor --json"))
    .action(async (flags) => {
      const { runDoctor } = await import("../commands/doctor.js");
      report(await runDoctor(flags));
    });
}

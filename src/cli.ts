import { Command, CommanderError, Option } from "commander";
import { DEFAULTS } from "./config/connection-settings.js";
import { EcwatchError, ExitCode, UsageError, errorMessage } from "./errors.js";
import { LOG_LEVELS } from "./cli/logger.js";
import { collectOrigins, communityId, duration, faults, glanceRate, historyTime, integer, oneOf, positiveNumber, qualifiedName, rate, receiverClass, speed, timeZone, timestamp, url, watchTarget } from "./cli/options.js";
import { STEP_NAMES } from "./energy/history-query.js";
import { NO_FAULTS } from "./sim/faults.js";
import { BUILT_IN_SCENARIOS } from "./sim/setup.js";
import { TRANSPORTS } from "./sim/reading-sink.js";
import { READING_LEVELS } from "./sim/sources.js";
import { COLOR_MODES } from "./tui/color.js";
import { DEFAULT_BROADCAST_TARGET } from "./wear-emu/bridge-protocol.js";
import { DEFAULT_ENERGY } from "./wear-emu/energy-model.js";
import { POLICIES } from "./wear-emu/policy.js";
import { redactSecrets } from "./url.js";
import { VERSION } from "./version.js";

/**
 * The composition root: declares every command and lazily imports its module, so that
 * `--help` stays instant and heavy modules load only for the command that needs them.
 */

const natsOption = (): Option => new Option("--nats <url>", `NATS server URL(s), comma-separated (env NATS_URL; default: a running \`ecwatch up\`, else ${DEFAULTS.nats})`).argParser(url(["nats", "tls"]));
const redisOption = (): Option => new Option("--redis <url>", `Redis URL (env REDIS_URL; default: a running \`ecwatch up\`, else ${DEFAULTS.redis})`).argParser(url(["redis", "rediss"]));
const apiOption = (): Option => new Option("--api <url>", `API base URL (env ECWATCH_API; default: a running \`ecwatch up\`, else ${DEFAULTS.api})`).argParser(url(["http", "https"]));
const logLevelOption = (): Option =>
  new Option("--log-level <level>", `what to log on stderr: ${LOG_LEVELS.join(", ")} (JSON lines when stderr is not a terminal, readable lines on one)`).argParser(oneOf(LOG_LEVELS)).default("info");
/** Credentials and TLS of NATS and Redis (issue 10): every command with --nats / --redis takes them, see buildProgram. */
const natsCredsOption = (): Option => new Option("--nats-creds <file>", "NATS credentials: a .creds file (user JWT and seed) or an nkey seed file (env NATS_CREDS)");
const natsTlsCaOption = (): Option => new Option("--nats-tls-ca <file>", "CA certificate(s) of the NATS servers, PEM; turns TLS on, as a tls:// URL does (env NATS_TLS_CA)");
const redisTlsCaOption = (): Option => new Option("--redis-tls-ca <file>", "CA certificate(s) of the Redis server, PEM; turns TLS on, as a rediss:// URL does (env REDIS_TLS_CA)");
/** Who may use the API of serve and up (issue 10). */
const tokenOption = (): Option => new Option("--token <token>", "POSTs must send Authorization: Bearer <token>; needed when --host is not loopback (env ECWATCH_TOKEN, better: a flag shows in ps)");
const rateLimitOption = (): Option => new Option("--rate-limit <rate>", "POSTs per client address, e.g. 100/s, 6000/m, or off").argParser(rate).default(100, "100/s");
const rateBurstOption = (): Option => new Option("--rate-burst <n>", "POSTs a client may send at once (default: two seconds' worth of --rate-limit)").argParser(integer(1, 10_000_000));
const corsOption = (): Option => new Option("--cors <origins>", "let web pages of these origins call the API: comma-separated or repeated, * for any (default: CORS off)").argParser(collectOrigins);
const staleOption = (): Option => new Option("--stale-after <duration>", "a meter this far behind its community's newest reading (data time) leaves the totals").argParser(duration()).default(30_000, "30s");

/** Collects a repeatable --community into a list of valid ids. */
function collectCommunity(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), communityId(value)];
}

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join("\n")}\n`;
}

export function buildProgram(): Command {
  const program = new Command("ecwatch")
    .description("Run, watch and stress-test the data path of an energy community:\nsmart meters → NATS JetStream → aggregator → Redis + NATS KV → REST/SSE API.")
    .version(VERSION, "-V, --version")
    .option("--debug", "print stack traces of errors")
    .showHelpAfterError("(run with --help for usage)")
    // A usage error quotes the value it refused, which may be a URL with a password (issue 10).
    .configureOutput({ outputError: (text, write) => write(redactSecrets(text)) })
    .addHelpText("after", examples("ecwatch up", "ecwatch tail community1", "ecwatch sim --communities 5 --duration 1m --json"));

  program
    .command("up")
    .description("start nats-server, redis-server, the aggregator, the API and a simulator, with a live status")
    .option("--communities <n>", "simulated communities", integer(0, 10_000), 5)
    .option("--meters <n>", "meters per community", integer(1, 100_000), 20)
    .option("--scenario <name|file>", `simulate this mix of meters instead: ${BUILT_IN_SCENARIOS.join(", ")}, or a JSON file`)
    .option("--interval <duration>", "time between two readings of a meter", duration(), 1_000)
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
      const { runUp } = await import("./commands/up.js");
      await runUp({ ...flags, portFromUser: command.getOptionValueSource("port") !== "default" });
    });

  program
    .command("sim")
    .description("simulate the meters of energy communities publishing readings to JetStream")
    .option("--communities <n>", "communities community1..N (each a copy of the scenario, elsewhere, with other draws)", integer(1, 10_000), 5)
    .option("--scenario <name|file>", `a community's mix of meters: ${BUILT_IN_SCENARIOS.join(", ")}, or a JSON file (default: --meters households, 40 % with PV)`)
    .option("--meters <n>", "meters per community of the default scenario", integer(1, 100_000), 20)
    .option("--interval <duration>", "data time between two readings of a meter", duration(), 1_000)
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
    .option("--json", "print {published, errors, communities: {id: {genW, conW, meters, stale}}, faults, energy} at exit")
    .addHelpText(
      "after",
      examples(
        "ecwatch sim --communities 5",
        "ecwatch sim --scenario village --start 2026-06-21T00:00:00Z --duration 1d --interval 1m --speed max --json",
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
        const modelFlags = ["scenario", "faults", "communities", "meters", "interval", "duration", "seed", "level"];
        const given = modelFlags.find((name) => command.getOptionValueSource(name) === "cli");
        if (given) throw new UsageError(`--replay publishes a recorded trace as it is; it takes no --${given}.`, "Drop it, or simulate instead of replaying.");
      }
      const { runSim } = await import("./commands/sim.js");
      await runSim({ ...flags, intervalMs: flags.interval, startMs: flags.start, durationMs: flags.duration, faults: flags.faults ?? NO_FAULTS });
    });

  program
    .command("bench")
    .description("measure the pipeline: readings/s with zero loss, end-to-end and SSE latency, CPU and memory, against a raw JetStream baseline of the same run")
    .option("--communities <n>", "simulated communities", integer(1, 10_000), 10)
    .option("--meters <n>", "meters per community", integer(1, 100_000), 100)
    .option("--rate <readings/s>", "readings per second, all communities together (with --find-max: where the ramp starts)", integer(1, 10_000_000), 10_000)
    .addOption(new Option("--duration <duration>", "length of each run").argParser(duration(1_000)).default(10_000, "10s"))
    .option("--clients <n>", "SSE clients, spread over the communities", integer(1, 100_000), 100)
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
      examples("ecwatch bench", "ecwatch bench --rate 20000 --duration 20s --clients 1000", "ecwatch bench --find-max --json", "ecwatch bench --communities 50 --meters 2000 --rate 50000 --out bench/results/bench.json"),
    )
    .action(async (flags) => {
      const { runBench } = await import("./commands/bench.js");
      await runBench(flags);
    });

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
      const { runAggregate } = await import("./commands/aggregate.js");
      await runAggregate(flags);
    });

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
      const { runServe } = await import("./commands/serve.js");
      await runServe(flags);
    });

  program
    .command("tail")
    .description("follow a community's SSE stream")
    .argument("<community>", "community id, e.g. community1", communityId)
    .addOption(apiOption())
    .option("--json", "one JSON object per line")
    .option("--count <n>", "exit after this many events", integer(1))
    .addHelpText("after", examples("ecwatch tail community1", "ecwatch tail community2 --json | jq .netW", "ecwatch tail community1 --api http://127.0.0.1:8000 --count 1"))
    .action(async (community: string, flags) => {
      const { runTail } = await import("./commands/tail.js");
      await runTail(community, flags);
    });

  program
    .command("history")
    .description("a community's energy and KPIs per bucket (generation, consumption, grid import/export, shared, self-sufficiency) as a table and a chart")
    .argument("<community>", "community id, e.g. community1", communityId)
    .addOption(new Option("--since <duration>", "from this long ago until now, e.g. 24h, 7d (default 24h)").argParser(duration()).conflicts(["from"]))
    .addOption(new Option("--from <time>", "start: ISO-8601 with a zone, or relative like -24h").argParser(historyTime))
    .addOption(new Option("--to <time>", "end: ISO-8601 with a zone, relative like -1h, or now (default now)").argParser(historyTime))
    .addOption(new Option("--step <step>", "bucket size: 15m is the settlement interval").argParser(oneOf(STEP_NAMES)).default("15m"))
    .option("--tz <zone>", "IANA time zone of hours, days and the times shown (default UTC)", timeZone)
    .addOption(apiOption())
    .addOption(new Option("--json", "print the buckets as a JSON array").conflicts(["csv"]))
    .option("--csv", "print the buckets as CSV")
    .addHelpText(
      "after",
      examples("ecwatch history community1", "ecwatch history community1 --since 7d --step 1d --tz Europe/Berlin", "ecwatch history community1 --from 2026-11-21T00:00:00Z --to 2026-11-22T00:00:00Z --step 1h", "ecwatch history community1 --since 30d --csv > community1.csv"),
    )
    .action(async (community: string, flags) => {
      const { runHistory } = await import("./commands/history.js");
      await runHistory(community, flags);
    });

  program
    .command("monitor")
    .description("the watch face of a community, live in the terminal (or a grid of all with --all)")
    .argument("[community]", "community id (default: the first the API knows)", communityId)
    .option("--all", "every community as a grid of small faces (s sorts by name or deficit)")
    .addOption(apiOption())
    .option("--max-kw <kw>", "net power that fills the ring", positiveNumber, 10)
    .option("--ascii", "draw with ASCII instead of braille, for terminals without it")
    .addOption(new Option("--color <mode>", "colours (default: detected; NO_COLOR turns them off)").argParser(oneOf(COLOR_MODES)))
    .option("--once", "print one frame and exit (for scripts)")
    .option("--svg <file>", "write the face as a 437×437 SVG, as the watch draws it")
    .option("--tz <zone>", "IANA time zone whose day is \"today\" in the line of today's kWh under the face (default UTC)", timeZone)
    .addHelpText("after", examples("ecwatch monitor community1", "ecwatch monitor --all", "ecwatch monitor community2 --once --color none", "ecwatch monitor community1 --svg face.svg --max-kw 20"))
    .action(async (community: string | undefined, flags) => {
      const { runMonitor } = await import("./commands/monitor.js");
      await runMonitor(community, flags);
    });

  program
    .command("wear-emu")
    .description("the phone-to-watch relay with an emulated watch: Data Layer, energy-aware policy, watch energy figures")
    .option("--community <id>", "community to relay, repeatable; the watch face shows the first (default community1; others go to /net_energy/<id>)", collectCommunity)
    .addOption(apiOption())
    .addOption(new Option("--policy <name>", "prototype: every update urgent with a unique time field; energy-aware: wake the watch only for what can be seen").argParser(oneOf(POLICIES)).default("energy-aware"))
    .option("--idle-interval <duration>", "energy-aware: while the app is not visible, refresh the watch at least this often", duration(), 15 * 60_000)
    .option("--batch-delay <duration>", "how long the Data Layer may hold a non-urgent item (the platform allows up to 30m)", duration(), 5 * 60_000)
    .option("--coalesce <duration>", "energy-aware: while visible, at most one update per this long (the newest)", duration(), 500)
    .option("--always-on", "energy-aware: treat the watch as always visible (an always-on display)")
    .option("--glances <rate>", "how often the user looks, 5–10 s each (e.g. 60/day, 4/h)", glanceRate, 60)
    .option("--seed <n>", "seed of the glance pattern", integer(0), 1)
    .option("--compare", "run the prototype's and the energy-aware policy over a recorded day and print them side by side")
    .option("--replay <trace>", `with --compare: a community trace (default fixtures/${"traces/village-day-1s.csv.gz"})`)
    .option("--wakeup-mj <mJ>", "watch energy per wake-up", positiveNumber, DEFAULT_ENERGY.wakeupMj)
    .option("--radio-mj-per-kb <mJ>", "radio energy per KB received", positiveNumber, DEFAULT_ENERGY.radioMjPerKb)
    .option("--radio-tail <duration>", "how long the radio stays on after a transfer", duration(0), DEFAULT_ENERGY.radioTailMs)
    .option("--radio-tail-mw <mW>", "radio power during the tail", positiveNumber, DEFAULT_ENERGY.radioTailMw)
    .option("--screen-mw <mW>", "extra power while the app's screen is on", positiveNumber, DEFAULT_ENERGY.screenOnMw)
    .option("--battery-mah <mAh>", "battery capacity", positiveNumber, DEFAULT_ENERGY.batteryMah)
    .addOption(new Option("--watch <target>", "emulated: the watch lives in this process; adb[:serial]: also drive the watch app on an emulator or device through adb (the user's real glances then drive the policy)").argParser(watchTarget).default({ kind: "emulated" }, "emulated"))
    .option("--adb-port <n>", "adb server port (default: env ANDROID_ADB_SERVER_PORT, else 5037)", integer(1, 65_535))
    .option("--reverse-port <n>", "with adb: the watch app sends its messages to this port on the watch (adb reverse tcp:<n> tcp:<n>)", integer(1, 65_535), 8765)
    .option("--package <name>", "with adb: the watch app's package", qualifiedName, DEFAULT_BROADCAST_TARGET.packageName)
    .option("--receiver <class>", "with adb: its receiver of the broadcasts ('' for one registered at run time)", receiverClass, DEFAULT_BROADCAST_TARGET.receiver)
    .option("--action <action>", "with adb: the broadcasts' intent action", qualifiedName, DEFAULT_BROADCAST_TARGET.action)
    .option("--json", "print the results as JSON")
    .addHelpText(
      "after",
      examples("ecwatch wear-emu", "ecwatch wear-emu --policy prototype --glances 20/h", "ecwatch wear-emu --watch adb:emulator-5554", "ecwatch wear-emu --community community1 --community community2", "ecwatch wear-emu --compare", "ecwatch wear-emu --compare --json --glances 120/day --idle-interval 30m"),
    )
    .action(async (flags) => {
      const { runWearEmu } = await import("./commands/wear-emu.js");
      flags.community ??= ["community1"];
      const energy = {
        ...DEFAULT_ENERGY,
        wakeupMj: flags.wakeupMj,
        radioMjPerKb: flags.radioMjPerKb,
        radioTailMs: flags.radioTail,
        radioTailMw: flags.radioTailMw,
        screenOnMw: flags.screenMw,
        batteryMah: flags.batteryMah,
      };
      const target = { action: flags.action, packageName: flags.package, receiver: flags.receiver };
      await runWearEmu({ ...flags, energy, target });
    });

  program
    .command("reset")
    .description("wipe the stream, the KV buckets and the cache (stop `ecwatch up` first)")
    .addOption(natsOption())
    .addOption(redisOption())
    .addHelpText("after", examples("ecwatch reset", "ecwatch reset --nats nats://127.0.0.1:4222 --redis redis://127.0.0.1:6379"))
    .action(async (flags) => {
      const { runReset } = await import("./commands/reset.js");
      await runReset(flags);
    });

  program
    .command("doctor")
    .description("check Node, nats-server, redis-server, ports and a running stack; say how to fix problems")
    .addOption(natsOption())
    .addOption(redisOption())
    .addOption(apiOption())
    .option("--json", "print the checks as JSON")
    .addHelpText("after", examples("ecwatch doctor", "ecwatch doctor --json"))
    .action(async (flags) => {
      const { runDoctor } = await import("./commands/doctor.js");
      await runDoctor(flags);
    });

  // Every command that connects to NATS or Redis also takes their credentials and CA files.
  for (const command of program.commands) {
    if (command.options.some((option) => option.long === "--nats")) command.addOption(natsCredsOption()).addOption(natsTlsCaOption());
    if (command.options.some((option) => option.long === "--redis")) command.addOption(redisTlsCaOption());
  }
  return program;
}

/** The one exit boundary: usage errors exit 2, runtime failures 1, each with one sentence. */
export async function main(argv: string[]): Promise<void> {
  // A reader that stops early (`ecwatch tail c1 | head`) is not an error: stop quietly.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
    process.exit(process.exitCode ?? ExitCode.Ok);
  });
  const program = buildProgram();
  program.exitOverride();
  program.commands.forEach((command) => command.exitOverride());
  const debug = argv.includes("--debug");
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed the message (or the help / version).
      process.exitCode = err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
      return;
    }
    if (err instanceof EcwatchError) {
      process.stderr.write(`ecwatch: ${err.message}${err.hint ? `\n  ${err.hint}` : ""}\n`);
      if (debug && err.cause) process.stderr.write(`${(err.cause as Error).stack ?? String(err.cause)}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`ecwatch: unexpected error: ${errorMessage(err)}\n  Run again with --debug for details.\n`);
      if (debug && err instanceof Error) process.stderr.write(`${err.stack}\n`);
      process.exitCode = ExitCode.Failure;
    }
  }
}

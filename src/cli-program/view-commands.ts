import type { HistoryFlags } from "../commands/history.js";
import type { MetersFlags } from "../commands/meters.js";
import type { MonitorFlags } from "../commands/monitor.js";
import type { TailFlags } from "../commands/tail.js";
import type { WearEmuFlags } from "../commands/wear-emu.js";
import { apiFlag, collectCommunity } from "../cli/common-options.js";
import { type ArgumentSpec, type CommandSpec, durationFlag, optionTable } from "../cli/option-table.js";
import { communityId, glanceRate, historyTime, integer, meterId, oneOf, positiveNumber, qualifiedName, receiverClass, timeZone, watchTarget } from "../cli/options.js";
import { STEP_NAMES } from "../energy/history-query.js";
import { DEFAULT_METER_SORT, MAX_METER_LIMIT, METER_SORTS } from "../energy/meter-list.js";
import { COLOR_MODES } from "../tui/color.js";
import { DEFAULT_BROADCAST_TARGET } from "../wear-emu/bridge-protocol.js";
import { DEFAULT_ENERGY } from "../wear-emu/energy-model.js";
import { POLICIES } from "../wear-emu/policy.js";

/**
 * The commands that show what the pipeline computes (terminal, chart, watch), as data: one
 * option table per command, typed against its flags, and a lazy import of the command.
 */

const community: ArgumentSpec<string> = { name: "<community>", description: "community id, e.g. community1", parse: communityId };

/** `ecwatch tail`: a community's SSE stream as lines. */
export const tail: CommandSpec<TailFlags, string> = {
  name: "tail",
  description: "follow a community's SSE stream",
  argument: community,
  options: optionTable<TailFlags>()({
    api: apiFlag,
    json: { flags: "--json", description: "one JSON object per line" },
    count: { flags: "--count <n>", description: "exit after this many events", parse: integer(1) },
  }),
  examples: ["ecwatch tail community1", "ecwatch tail community2 --json | jq .netW", "ecwatch tail community1 --api http://127.0.0.1:8000 --count 1"],
  run: async (flags, id) => (await import("../commands/tail.js")).runTail(id, flags),
};

/** `ecwatch history`: energy and KPIs per bucket. */
export const history: CommandSpec<HistoryFlags, string> = {
  name: "history",
  description: "a community's energy and KPIs per bucket (generation, consumption, grid import/export, shared, self-sufficiency) as a table and a chart",
  argument: community,
  options: optionTable<HistoryFlags>()({
    since: { ...durationFlag("--since <duration>", "from this long ago until now, e.g. 24h, 7d (default 24h)"), conflicts: ["from"] },
    from: { flags: "--from <time>", description: "start: ISO-8601 with a zone, or relative like -24h", parse: historyTime },
    to: { flags: "--to <time>", description: "end: ISO-8601 with a zone, relative like -1h, or now (default now)", parse: historyTime },
    step: { flags: "--step <step>", description: "bucket size: 15m is the settlement interval", parse: oneOf(STEP_NAMES), default: "15m" },
    tz: { flags: "--tz <zone>", description: "IANA time zone of hours, days and the times shown (default UTC)", parse: timeZone },
    meter: { flags: "--meter <id>", description: "one meter's energy instead, integrated from its archived readings (needs `ecwatch archive` running beside the aggregator)", parse: meterId },
    api: apiFlag,
    json: { flags: "--json", description: "print the buckets as a JSON array", conflicts: ["csv"] },
    csv: { flags: "--csv", description: "print the buckets as CSV" },
  }),
  examples: [
    "ecwatch history community1",
    "ecwatch history community1 --since 7d --step 1d --tz Europe/Berlin",
    "ecwatch history community1 --from 2026-11-21T00:00:00Z --to 2026-11-22T00:00:00Z --step 1h",
    "ecwatch history community1 --since 30d --csv > community1.csv",
    "ecwatch history community1 --meter meter017 --since 6h --step 1h",
  ],
  run: async (flags, id) => (await import("../commands/history.js")).runHistory(id, flags),
};

/** `ecwatch meters`: which meters make a community's number (issue 23). */
export const meters: CommandSpec<MetersFlags, string> = {
  name: "meters",
  description: "each meter of a community: its newest reading, net power, cadence, and whether it is stale (from the aggregator's stored state, ≈ 100 ms behind the live total)",
  argument: community,
  options: optionTable<MetersFlags>()({
    sort: { flags: "--sort <order>", description: "-net: exporters first; net: importers first; stale: stale first, longest silent first; id", parse: oneOf(METER_SORTS), default: DEFAULT_METER_SORT },
    limit: { flags: "--limit <n>", description: "show at most this many meters", parse: integer(1, MAX_METER_LIMIT) },
    stale: { flags: "--stale", description: "only the stale meters (silent for longer than their reading holds)" },
    watch: { flags: "--watch", description: "redraw the table in place as the community changes (at most once a second), until Ctrl-C", conflicts: ["json", "csv"] },
    api: apiFlag,
    json: { flags: "--json", description: "print the API's answer as JSON", conflicts: ["csv"] },
    csv: { flags: "--csv", description: "print the meters as CSV" },
  }),
  examples: ["ecwatch meters community1", "ecwatch meters community1 --stale", "ecwatch meters community1 --sort net --limit 5", "ecwatch meters community1 --watch", "ecwatch meters community1 --csv > meters.csv"],
  run: async (flags, id) => (await import("../commands/meters.js")).runMeters(id, flags),
};

/** `ecwatch monitor`: the watch face in the terminal. */
export const monitor: CommandSpec<MonitorFlags, string | undefined> = {
  name: "monitor",
  description: "the watch face of a community, live in the terminal (or a grid of all with --all)",
  argument: { name: "[community]", description: "community id (default: the first the API knows)", parse: communityId },
  options: optionTable<MonitorFlags>()({
    all: { flags: "--all", description: "every community as a grid of small faces (s sorts by name or deficit)" },
    api: apiFlag,
    maxKw: { flags: "--max-kw <kw>", description: "net power that fills the ring", parse: positiveNumber, default: 10 },
    ascii: { flags: "--ascii", description: "draw with ASCII instead of braille, for terminals without it" },
    color: { flags: "--color <mode>", description: "colours (default: detected; NO_COLOR turns them off)", parse: oneOf(COLOR_MODES) },
    once: { flags: "--once", description: "print one frame and exit (for scripts)" },
    svg: { flags: "--svg <file>", description: "write the face as a 437×437 SVG, as the watch draws it" },
    tz: { flags: "--tz <zone>", description: 'IANA time zone whose day is "today" in the line of today\'s kWh under the face (default UTC)', parse: timeZone },
  }),
  examples: ["ecwatch monitor community1", "ecwatch monitor --all", "ecwatch monitor community2 --once --color none", "ecwatch monitor community1 --svg face.svg --max-kw 20"],
  run: async (flags, id) => (await import("../commands/monitor.js")).runMonitor(id, flags),
};

/** `ecwatch wear-emu`: the phone-to-watch relay with an emulated watch. */
export const wearEmu: CommandSpec<WearEmuFlags> = {
  name: "wear-emu",
  description: "the phone-to-watch relay with an emulated watch: Data Layer, energy-aware policy, watch energy figures",
  options: optionTable<WearEmuFlags>()({
    community: { flags: "--community <id>", description: "community to relay, repeatable; the watch face shows the first (default community1; others go to /net_energy/<id>)", parse: collectCommunity },
    api: apiFlag,
    policy: { flags: "--policy <name>", description: "prototype: every update urgent with a unique time field; energy-aware: wake the watch only for what can be seen", parse: oneOf(POLICIES), default: "energy-aware" },
    idleInterval: durationFlag("--idle-interval <duration>", "energy-aware: while the app is not visible, refresh the watch at least this often", { default: 15 * 60_000 }),
    batchDelay: durationFlag("--batch-delay <duration>", "how long the Data Layer may hold a non-urgent item (the platform allows up to 30m)", { default: 5 * 60_000 }),
    coalesce: durationFlag("--coalesce <duration>", "energy-aware: while visible, at most one update per this long (the newest)", { default: 500 }),
    alwaysOn: { flags: "--always-on", description: "energy-aware: treat the watch as always visible (an always-on display)" },
    glances: { flags: "--glances <rate>", description: "how often the user looks, 5–10 s each (e.g. 60/day, 4/h)", parse: glanceRate, default: 60, defaultText: "60/day" },
    seed: { flags: "--seed <n>", description: "seed of the glance pattern", parse: integer(0), default: 1 },
    compare: { flags: "--compare", description: "run the prototype's and the energy-aware policy over a recorded day and print them side by side" },
    replay: { flags: "--replay <trace>", description: "with --compare: a community trace (default fixtures/traces/village-day-1s.csv.gz)" },
    wakeupMj: { flags: "--wakeup-mj <mJ>", description: "watch energy per wake-up", parse: positiveNumber, default: DEFAULT_ENERGY.wakeupMj },
    radioMjPerKb: { flags: "--radio-mj-per-kb <mJ>", description: "radio energy per KB received", parse: positiveNumber, default: DEFAULT_ENERGY.radioMjPerKb },
    radioTail: durationFlag("--radio-tail <duration>", "how long the radio stays on after a transfer", { min: 0, default: DEFAULT_ENERGY.radioTailMs }),
    radioTailMw: { flags: "--radio-tail-mw <mW>", description: "radio power during the tail", parse: positiveNumber, default: DEFAULT_ENERGY.radioTailMw },
    screenMw: { flags: "--screen-mw <mW>", description: "extra power while the app's screen is on", parse: positiveNumber, default: DEFAULT_ENERGY.screenOnMw },
    batteryMah: { flags: "--battery-mah <mAh>", description: "battery capacity", parse: positiveNumber, default: DEFAULT_ENERGY.batteryMah },
    watch: {
      flags: "--watch <target>",
      description: "emulated: the watch lives in this process; adb[:serial]: also drive the watch app on an emulator or device through adb (the user's real glances then drive the policy)",
      parse: watchTarget,
      default: { kind: "emulated" },
      defaultText: "emulated",
    },
    adbPort: { flags: "--adb-port <n>", description: "adb server port (default: env ANDROID_ADB_SERVER_PORT, else 5037)", parse: integer(1, 65_535) },
    reversePort: { flags: "--reverse-port <n>", description: "with adb: the watch app sends its messages to this port on the watch (adb reverse tcp:<n> tcp:<n>)", parse: integer(1, 65_535), default: 8765 },
    package: { flags: "--package <name>", description: "with adb: the watch app's package", parse: qualifiedName, default: DEFAULT_BROADCAST_TARGET.packageName },
    receiver: { flags: "--receiver <class>", description: "with adb: its receiver of the broadcasts ('' for one registered at run time)", parse: receiverClass, default: DEFAULT_BROADCAST_TARGET.receiver },
    action: { flags: "--action <action>", description: "with adb: the broadcasts' intent action", parse: qualifiedName, default: DEFAULT_BROADCAST_TARGET.action },
    json: { flags: "--json", description: "print the results as JSON" },
  }),
  examples: [
    "ecwatch wear-emu",
    "ecwatch wear-emu --policy prototype --glances 20/h",
    "ecwatch wear-emu --watch adb:emulator-5554",
    "ecwatch wear-emu --community community1 --community community2",
    "ecwatch wear-emu --compare",
    "ecwatch wear-emu --compare --json --glances 120/day --idle-interval 30m",
  ],
  run: async (flags) => (await import("../commands/wear-emu.js")).runWearEmu(flags),
};

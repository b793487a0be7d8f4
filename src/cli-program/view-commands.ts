import { type Command, Option } from "commander";
import { apiOption, collectCommunity, examples } from "../cli/common-options.js";
import type { StatusReport } from "../cli/exit.js";
import { communityId, duration, glanceRate, historyTime, integer, oneOf, positiveNumber, qualifiedName, receiverClass, timeZone, watchTarget } from "../cli/options.js";
import { STEP_NAMES } from "../energy/history-query.js";
import { COLOR_MODES } from "../tui/color.js";
import { DEFAULT_BROADCAST_TARGET } from "../wear-emu/bridge-protocol.js";
import { DEFAULT_ENERGY } from "../wear-emu/energy-model.js";
import { POLICIES } from "../wear-emu/policy.js";

/**
 * The commands that show what the pipeline computes (terminal, chart, watch): their flags as a
 * table, and an action that imports the command lazily and reports its status.
 */

/** `ecwatch tail`: a community's SSE stream as lines. */
export function addTailCommand(program: Command, report: StatusReport): void {
  program
    .command("tail")
    .description("follow a community's SSE stream")
    .argument("<community>", "community id, e.g. community1", communityId)
    .addOption(apiOption())
    .option("--json", "one JSON object per line")
    .option("--count <n>", "exit after this many events", integer(1))
    .addHelpText("after", examples("ecwatch tail community1", "ecwatch tail community2 --json | jq .netW", "ecwatch tail community1 --api http://127.0.0.1:8000 --count 1"))
    .action(async (community: string, flags) => {
      const { runTail } = await import("../commands/tail.js");
      report(await runTail(community, flags));
    });
}

/** `ecwatch history`: energy and KPIs per bucket. */
export function addHistoryCommand(program: Command, report: StatusReport): void {
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
      const { runHistory } = await import("../commands/history.js");
      report(await runHistory(community, flags));
    });
}

/** `ecwatch monitor`: the watch face in the terminal. */
export function addMonitorCommand(program: Command, report: StatusReport): void {
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
      const { runMonitor } = await import("../commands/monitor.js");
      report(await runMonitor(community, flags));
    });
}

/** `ecwatch wear-emu`: the phone-to-watch relay with an emulated watch. */
export function addWearEmuCommand(program: Command, report: StatusReport): void {
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
      const { runWearEmu } = await import("../commands/wear-emu.js");
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
      report(await runWearEmu({ ...flags, energy, target }));
    });
}

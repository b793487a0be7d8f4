import { readFileSync } from "node:fs";
import type { ApiClient } from "../api-client/api-client.js";
import { openAdb } from "../app/adb.js";
import { openApiClient } from "../app/api-client.js";
import { systemClock } from "../app/clock.js";
import { readTerminalKeys } from "../app/terminal-keys.js";
import { answeredStatus } from "../cli/api-failure.js";
import { LiveBlock } from "../cli/output.js";
import { untilSignal } from "../cli/signals.js";
import type { Aggregate } from "../domain/aggregate.js";
import { formatDuration } from "../domain/duration.js";
import { EcwatchError, ExitCode, UsageError } from "../errors.js";
import { FIXTURES } from "../sim/fixtures.js";
import { detectColorMode } from "../tui/color.js";
import { keyAction, wearEmuLines } from "../tui/wear-emu-view.js";
import { AdbWatch } from "../wear-emu/adb-watch.js";
import type { WatchTarget } from "../wear-emu/bridge-protocol.js";
import { CommunityTraceError, parseCommunityTrace } from "../wear-emu/community-trace.js";
import { type Comparison, type PolicyResult, comparePolicies } from "../wear-emu/compare.js";
import { DEFAULT_ENERGY, type EnergyParams } from "../wear-emu/energy-model.js";
import { glancePattern } from "../wear-emu/glances.js";
import { LiveRelay } from "../wear-emu/live-relay.js";
import { type EnergyAwareOptions, type PolicyName, energyAwarePolicy, prototypePolicy } from "../wear-emu/policy.js";

export interface WearEmuFlags {
  /** The communities relayed; the watch face shows the first (default community1). */
  readonly community?: readonly string[];
  readonly api?: string;
  readonly policy: PolicyName;
  readonly idleInterval: number;
  readonly batchDelay: number;
  readonly coalesce: number;
  readonly alwaysOn?: boolean;
  /** Glances per day. */
  readonly glances: number;
  readonly seed: number;
  readonly compare?: boolean;
  readonly replay?: string;
  readonly json?: boolean;
  /** The watch's energy figures (energy-model.ts): mJ per wake-up, per KB, the radio's tail, mW, mAh. */
  readonly wakeupMj: number;
  readonly radioMjPerKb: number;
  readonly radioTail: number;
  readonly radioTailMw: number;
  readonly screenMw: number;
  readonly batteryMah: number;
  readonly watch: WatchTarget;
  readonly adbPort?: number;
  readonly reversePort: number;
  /** The broadcasts to the watch app (with adb). */
  readonly package: string;
  readonly receiver: string;
  readonly action: string;
}

function energyOf(flags: WearEmuFlags): EnergyParams {
  return {
    ...DEFAULT_ENERGY,
    wakeupMj: flags.wakeupMj,
    radioMjPerKb: flags.radioMjPerKb,
    radioTailMs: flags.radioTail,
    radioTailMw: flags.radioTailMw,
    screenOnMw: flags.screenMw,
    batteryMah: flags.batteryMah,
  };
}

/** The day of the village at 1-second aggregates shipped for --compare. */
export const DEFAULT_TRACE = "traces/village-day-1s.csv.gz";

function policyOptions(flags: WearEmuFlags): EnergyAwareOptions {
  if (flags.batchDelay >= flags.idleInterval) {
    throw new UsageError("--batch-delay must be shorter than --idle-interval, or idle refreshes cannot arrive in time.");
  }
  return { idleIntervalMs: flags.idleInterval, batchDelayMs: flags.batchDelay, coalesceMs: flags.coalesce, alwaysOn: flags.alwaysOn === true };
}

function loadTrace(file: string | undefined): ReturnType<typeof parseCommunityTrace> {
  const where = file ?? new URL(DEFAULT_TRACE, FIXTURES);
  try {
    return parseCommunityTrace(readFileSync(where));
  } catch (err) {
    if (err instanceof CommunityTraceError) throw new UsageError(`--replay ${String(file)}: ${err.message}.`);
    throw new UsageError(`--replay ${String(file)}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
  }
}

function comparisonTable(comparison: Comparison, glancesPerDay: number): string {
  const rows: Array<[string, (r: PolicyResult) => string]> = [
    ["watch wake-ups per hour", (r) => r.wakeupsPerHour.toFixed(1)],
    ["bytes per hour", (r) => String(r.bytesPerHour)],
    ["estimated mAh per day", (r) => r.mAhPerDay.toFixed(2)],
    ["% of a 300 mAh battery per day", (r) => `${r.batteryPercentPerDay.toFixed(2)} %`],
    ["display error while looking, p50 / p99", (r) => `${r.staleness.p50W} / ${r.staleness.p99W} W`],
    ["longest > 1 display step off while looking", (r) => `${r.staleness.maxStaleSeconds} s`],
    ["oldest value while not looking", (r) => formatDuration(r.staleness.maxAgeNotLookingMs)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = [`${"".padEnd(width)}   ${"prototype".padStart(14)}   ${"energy-aware".padStart(14)}`];
  for (const [label, cell] of rows) lines.push(`${label.padEnd(width)}   ${cell(comparison.prototype).padStart(14)}   ${cell(comparison.energyAware).padStart(14)}`);
  lines.push("", `energy-aware needs ${comparison.wakeupRatio}× fewer wake-ups (${glancesPerDay} glances a day)`);
  return lines.join("\n");
}

/** The latest value, or undefined when the API answers without one. */
async function latestOrNone(api: ApiClient, communityId: string): Promise<Aggregate | undefined> {
  try {
    return await api.latest(communityId);
  } catch (err) {
    if (answeredStatus(err) !== undefined) return undefined;
    throw err;
  }
}

export async function runWearEmu(given: WearEmuFlags): Promise<ExitCode> {
  const flags = { ...given, community: given.community ?? ["community1"] };
  const energy = energyOf(flags);
  const options = policyOptions(flags);
  if (flags.compare) {
    const trace = loadTrace(flags.replay);
    const glances = glancePattern({ seed: flags.seed, perDay: flags.glances, startMs: trace.startMs, durationMs: trace.netW.length * trace.stepMs });
    const comparison = comparePolicies(trace, glances, options, energy);
    if (flags.json) process.stdout.write(`${JSON.stringify(comparison)}\n`);
    else process.stdout.write(`${comparisonTable(comparison, flags.glances)}\n`);
    return ExitCode.Ok;
  }
  if (flags.replay) throw new UsageError("--replay goes with --compare.");

  const api = openApiClient(flags);
  const [shown] = flags.community;
  const first = await latestOrNone(api, shown!).catch((err: unknown) => {
    throw new EcwatchError("API_UNREACHABLE", `Cannot reach the API at ${api.baseUrl}.`, { hint: "Start the stack with `ecwatch up`, or pass --api <url>.", cause: err });
  });
  const clock = systemClock;
  const startMs = clock.now();
  let adbWatch: AdbWatch | undefined;
  const relay = new LiveRelay({
    communities: flags.community,
    policyFor: () => (flags.policy === "prototype" ? prototypePolicy() : energyAwarePolicy(options)),
    batchDelayMs: flags.batchDelay,
    // A real watch reports its user's glances itself.
    glances: flags.watch.kind === "adb" ? undefined : glancePattern({ seed: flags.seed, perDay: flags.glances, startMs, durationMs: 7 * 86_400_000 }),
    energy: energy,
    feed: api,
    onDelivery: (delivery) => adbWatch?.deliver(delivery),
    clock,
  });
  if (flags.watch.kind === "adb") {
    relay.setWatchConnected(false);
    adbWatch = new AdbWatch({
      adb: openAdb(flags.adbPort),
      serial: flags.watch.serial,
      target: { action: flags.action, packageName: flags.package, receiver: flags.receiver },
      reversePort: flags.reversePort,
      onConnected: (connected) => relay.setWatchConnected(connected),
      onMessage: (message) => {
        if (message.kind === "request") void relay.answerRequest(message.community);
        else void relay.setLooking(message.kind === "opened");
      },
    });
    await adbWatch.start();
  }
  relay.start();
  // A person at a terminal drives the watch: space raises the wrist (issue 19).
  const keys = !flags.json && process.stdin.isTTY === true && process.stdout.isTTY === true;
  process.stderr.write(`relaying ${flags.community.join(", ")} from ${api.baseUrl}${first ? "" : ` (${shown} has no value yet)`} — ${keys ? "space raises the wrist, q quits" : "Ctrl-C stops"}\n`);
  const colorMode = detectColorMode(process.env, process.stdout.isTTY === true);
  const block = new LiveBlock(process.stdout);
  const render = (): void => {
    const snapshot = relay.snapshot();
    const adb = adbWatch?.status();
    if (flags.json) process.stdout.write(`${JSON.stringify({ watchW: snapshot.held?.netW ?? null, truthW: snapshot.truthW ?? null, link: snapshot.link, looking: snapshot.looking, ...snapshot.energy, ...(adb && { adb }) })}\n`);
    else block.render(wearEmuLines(snapshot, { communities: flags.community, policy: flags.policy, colorMode, keys, adb }));
  };
  const frames = clock.every(flags.json ? 5_000 : 1_000, render);
  let quit: () => void = () => undefined;
  const quitKey = new Promise<void>((resolve) => (quit = resolve));
  const terminal = keys
    ? readTerminalKeys(process.stdin, (input) => {
        const action = keyAction(input);
        if (action === "quit") quit();
        else if (action === "wrist") void relay.toggleWrist().then(render);
      })
    : undefined;
  await Promise.race([untilSignal(), quitKey]);
  terminal?.stop();
  frames.cancel();
  relay.stop();
  await adbWatch?.stop();
  return ExitCode.Ok;
}

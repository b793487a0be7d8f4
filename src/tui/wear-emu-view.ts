import { formatKw } from "../domain/format-power.js";
import type { AdbWatchStatus } from "../wear-emu/adb-watch.js";
import type { RelaySnapshot } from "../wear-emu/live-relay.js";
import type { RelayLogEntry } from "../wear-emu/relay-log.js";
import { WATCH_VALIDITY_MS } from "../wear-emu/watch.js";
import { type ColorMode, UNIT_COLOR } from "./color.js";
import { paint } from "./details.js";
import { renderFace } from "./face.js";
import { formatAge } from "./monitor-model.js";

/** What a key does in the live view (issue 19: a person drives it). */
export type WearEmuAction = "wrist" | "quit";

/** The keys, as the screen lists them. */
export const WEAR_EMU_KEYS: ReadonlyArray<{ readonly keys: string; readonly does: string; readonly action: WearEmuAction; readonly inputs: readonly string[] }> = [
  { keys: "space", does: "raise / lower the wrist", action: "wrist", inputs: [" "] },
  { keys: "q or Ctrl-C", does: "quit", action: "quit", inputs: ["q", "Q", "\u0003"] },
];

/** The action of what a terminal in raw mode read; undefined for any other key. */
export function keyAction(input: string): WearEmuAction | undefined {
  return WEAR_EMU_KEYS.find((key) => key.inputs.includes(input))?.action;
}

export interface WearEmuViewOptions {
  readonly communities: readonly string[];
  readonly policy: string;
  readonly colorMode: ColorMode;
  /** Whether the keys work (a terminal on stdin): then the screen lists them. */
  readonly keys: boolean;
  /** A real watch app driven through adb, and how it stands. */
  readonly adb?: AdbWatchStatus;
}

const FACE = { cols: 30, rows: 15 } as const;
const clockTime = (atMs: number): string => new Date(atMs).toISOString().slice(11, 19);

function adbLines(status: AdbWatchStatus): string[] {
  const counts = `${status.broadcasts} broadcasts${status.failedBroadcasts ? ` (${status.failedBroadcasts} failed)` : ""} · ${status.messages} messages from the watch`;
  return [`watch app via adb: ${status.state === "connected" ? status.detail : `waiting — ${status.detail}`} · ${counts}`, ...(status.lastProblem ? [`  last problem: ${status.lastProblem}`] : [])];
}

/** The wrist and the screen: up for how long still, or down. */
function wristLine(snapshot: RelaySnapshot, keys: boolean): string {
  if (snapshot.wristRemainingMs !== undefined) return `wrist raised — watch screen ON, ${Math.ceil(snapshot.wristRemainingMs / 1000)}s left${keys ? " (space lowers it)" : ""}`;
  if (snapshot.looking) return "watch screen ON (the user is looking)";
  return `wrist down — watch screen off${keys ? " (space raises it)" : ""}`;
}

/** What the watch holds and how old it is: since it was measured, and since it arrived on the watch. */
function heldLine(snapshot: RelaySnapshot): string {
  const api = `API now ${snapshot.truthW === undefined ? "–" : formatKw(snapshot.truthW, true)}`;
  const held = snapshot.held;
  if (!held) return `watch holds nothing yet   ${api}`;
  const measured = held.measuredAtMs === undefined ? "" : ` · measured ${formatAge(snapshot.atMs - held.measuredAtMs)} ago`;
  const stale = held.measuredAtMs !== undefined && snapshot.atMs - held.measuredAtMs > WATCH_VALIDITY_MS ? " (stale: older than the watch's minute)" : "";
  return `watch holds ${formatKw(held.netW, true)}${measured} · arrived ${formatAge(snapshot.atMs - held.receivedAtMs)} ago${stale}   ${api}`;
}

/** One line of the Data Layer log: what the policy did, and what the watch got (bytes, which wake-up). */
export function logLine(entry: RelayLogEntry): string {
  const value = entry.netW === undefined ? "" : ` ${formatKw(entry.netW, true)}`;
  const updates = entry.count === 1 ? "1 update" : `${entry.count} updates`;
  const outcome =
    entry.what === "held"
      ? `not sent (${updates}; ${entry.looking ? "no change the face would show yet, or coalesced" : "screen off: not worth a wake-up"})`
      : entry.wakeup !== undefined
      ? `${entry.bytes} B, wake-up ${entry.wakeup}`
      : entry.unchanged
        ? "unchanged, nothing sent"
        : entry.dueMs !== undefined
          ? `waits for the batch at ${clockTime(entry.dueMs)}`
          : "waits for the watch";
  return `${clockTime(entry.atMs)}  ${entry.what.padEnd(7)} ${entry.path}${value} → ${outcome}`;
}

/** The screen off: the face's place, empty. */
function darkFace(): string[] {
  const label = "(screen off)";
  const middle = Math.floor(FACE.rows / 2);
  return Array.from({ length: FACE.rows }, (_, row) => (row === middle ? `${" ".repeat((FACE.cols - label.length) >> 1)}${label}` : ""));
}

/** The live view of `ecwatch wear-emu`: the watch as it is, the Data Layer log, the figures, the keys. */
export function wearEmuLines(snapshot: RelaySnapshot, options: WearEmuViewOptions): string[] {
  const { colorMode } = options;
  const face = snapshot.looking ? renderFace({ netW: snapshot.held?.netW ?? 0, maxW: 10_000, ...FACE, colorMode }) : darkFace();
  const minutes = (snapshot.atMs - snapshot.startedAtMs) / 60_000;
  const keys = WEAR_EMU_KEYS.map((key) => `${key.keys} ${key.does}`).join(" · ");
  return [
    `wear-emu · ${options.communities.join(", ")} · policy ${options.policy} · link ${snapshot.link}`,
    ...(options.adb ? adbLines(options.adb) : []),
    wristLine(snapshot, options.keys),
    ...face,
    heldLine(snapshot),
    `Data Layer log (last ${snapshot.log.length}) — what the policy did:`,
    ...snapshot.log.map((entry) => `  ${logLine(entry)}`),
    `after ${minutes.toFixed(1)} min: ${snapshot.energy.wakeupsPerHour.toFixed(0)} wake-ups/h · ${snapshot.energy.bytesPerHour.toFixed(0)} B/h · ≈ ${snapshot.energy.mAhPerDay.toFixed(2)} mAh/day (screen not counted)`,
    ...(options.keys ? [paint(`keys: ${keys}`, UNIT_COLOR, colorMode)] : []),
  ];
}

import type { WatchDelivery } from "./data-layer.js";

/**
 * The debug bridge between the relay and a watch app on an emulator or a device, pure:
 * what the relay sends is an `am broadcast` command line (run through `adb shell`), what the
 * watch sends back is one JSON line per message over `adb reverse`.
 */

/** Where the broadcasts go: the prototype's watch app by default. */
export interface BroadcastTarget {
  readonly action: string;
  readonly packageName: string;
  /** A manifest receiver (`.presentation.WearEmuReceiver` or a full class name); empty: any receiver the package registered at run time. */
  readonly receiver: string;
}

export const DEFAULT_BROADCAST_TARGET: BroadcastTarget = {
  action: "com.example.energy.DATA_ITEM",
  packageName: "com.example.energy",
  receiver: ".presentation.WearEmuReceiver",
};

/** Where the relay's deliveries go: the emulated watch only, or also a watch app through adb. */
export type WatchTarget = { readonly kind: "emulated" } | { readonly kind: "adb"; readonly serial: string | undefined };

/** `emulated`, `adb` (the only device attached) or `adb:<serial>`. */
export function parseWatchTarget(value: string): WatchTarget {
  if (value === "emulated") return { kind: "emulated" };
  if (value === "adb") return { kind: "adb", serial: undefined };
  const serial = value.startsWith("adb:") ? value.slice(4) : undefined;
  if (serial !== undefined && /^[\w.:-]+$/.test(serial)) return { kind: "adb", serial };
  throw new RangeError("expected emulated, adb or adb:<serial> (e.g. adb:emulator-5554)");
}

const JAVA_NAME = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$/;

/** An Android package name (`com.example.energy`) or intent action (`com.example.energy.DATA_ITEM`). */
export function parseQualifiedName(value: string): string {
  if (!JAVA_NAME.test(value)) throw new RangeError("expected a dotted name like com.example.energy");
  return value;
}

/** A receiver class: `.presentation.WearEmuReceiver` (in the package), a full class name, or empty for run-time receivers. */
export function parseReceiver(value: string): string {
  if (value === "" || JAVA_NAME.test(value.startsWith(".") ? `p${value}` : value)) return value;
  throw new RangeError("expected a class like .presentation.WearEmuReceiver, a full class name, or an empty string");
}

/** Characters a POSIX shell takes literally outside quotes. */
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * One argument quoted for a POSIX shell (`adb shell` joins its arguments with spaces and the
 * device's shell splits them again): safe words as they are, anything else in single quotes,
 * with each `'` written as `'\''`.
 */
export function shellQuote(arg: string): string {
  if (SHELL_SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The `am broadcast` arguments that hand one Data Layer delivery to the watch app. */
export function broadcastArgs(target: BroadcastTarget, delivery: WatchDelivery, seq: number): string[] {
  const data = delivery.data !== undefined ? JSON.stringify(delivery.data) : new TextDecoder().decode(delivery.payload);
  const component = target.receiver === "" ? ["-p", target.packageName] : ["-n", `${target.packageName}/${target.receiver}`];
  return ["am", "broadcast", "-a", target.action, ...component, "--es", "path", delivery.path, "--es", "data", data, "--ez", "urgent", String(delivery.urgent), "--el", "seq", String(seq)];
}

/** The shell command line of `broadcastArgs`, every value quoted. */
export function broadcastCommand(target: BroadcastTarget, delivery: WatchDelivery, seq: number): string {
  return broadcastArgs(target, delivery, seq).map(shellQuote).join(" ");
}

/** What `am broadcast` prints when the intent was sent (whether a receiver took it or not). */
export function broadcastSucceeded(output: string): boolean {
  return /^Broadcast completed/m.test(output);
}

/** The watch app came to the foreground (the user looks) / left it. */
export const APP_OPENED_PATH = "/app_opened";
export const APP_CLOSED_PATH = "/app_closed";

export type WatchMessage =
  | { readonly kind: "opened" }
  | { readonly kind: "closed" }
  /** The watch's value is older than a minute; `community` picks a tile's community (default: the face's). */
  | { readonly kind: "request"; readonly community?: string };

/** Longest accepted line; a longer one closes the connection. */
export const MAX_WATCH_LINE_BYTES = 64 * 1024;

/**
 * One line from the watch: `{"path": "/request_latest_energy", "data": {...}}`. Returns the
 * message, or a sentence saying what is wrong with the line.
 */
export function parseWatchMessage(line: string, requestPath: string): WatchMessage | { readonly error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { error: "not JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { error: "not a JSON object" };
  const { path, data } = value as { path?: unknown; data?: unknown };
  if (typeof path !== "string") return { error: 'no "path" string' };
  if (path === APP_OPENED_PATH) return { kind: "opened" };
  if (path === APP_CLOSED_PATH) return { kind: "closed" };
  if (path !== requestPath) return { error: `unknown path ${JSON.stringify(path.slice(0, 80))}` };
  if (data === undefined || data === null) return { kind: "request" };
  const community = typeof data === "object" ? (data as { community?: unknown }).community : undefined;
  if (typeof community !== "string") return { error: 'data of a request must be {"community": "<id>"} or absent' };
  return { kind: "request", community };
}

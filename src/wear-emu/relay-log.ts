import type { WatchDelivery } from "./data-layer.js";
import type { Put } from "./policy.js";
import { deliveredFields } from "./watch.js";

/**
 * One line of what the relay did (issue 19): what the policy decided about a value, and what the
 * Data Layer made of it. `urgent`/`batched`: a put of the policy; `held`: updates the policy
 * kept from the watch (consecutive ones share a line); `message`: the answer to the watch's
 * request; `batch`: items that waited and went out later (their batch fell due, or the watch
 * came back).
 */
export interface RelayLogEntry {
  readonly atMs: number;
  readonly what: "urgent" | "batched" | "held" | "message" | "batch";
  readonly path: string;
  readonly netW: number | undefined;
  /** The wake-up that brought it to the watch (numbered from 1); undefined: not delivered (yet). */
  readonly wakeup: number | undefined;
  /** Bytes that reached the watch; 0 when nothing went. */
  readonly bytes: number;
  /** A batched put waits until then; undefined when it went, changed nothing, or the watch is away. */
  readonly dueMs: number | undefined;
  /** The put equalled the item the phone already had: nothing to send. */
  readonly unchanged: boolean;
  /** Held: how many updates in a row the policy kept back (the newest is `netW`); 1 otherwise. */
  readonly count: number;
  /** Held while the watch app was on screen (coalesced), rather than off. */
  readonly looking: boolean;
}

/**
 * The log after the policy held back an update of `path` at `atMs`: a run of held updates is
 * one line, counting them, so a busy community cannot push the log's decisions off the screen.
 */
export function withHeld(log: readonly RelayLogEntry[], atMs: number, path: string, netW: number, looking: boolean): RelayLogEntry[] {
  const last = log.at(-1);
  const run = last?.what === "held" && last.path === path && last.looking === looking ? last.count : 0;
  const entry: RelayLogEntry = { atMs, what: "held", path, netW, wakeup: undefined, bytes: 0, dueMs: undefined, unchanged: false, count: run + 1, looking };
  return [...(run ? log.slice(0, -1) : log), entry];
}

const netOf = (value: unknown): number | undefined => (typeof value === "number" && Number.isFinite(value) ? value : undefined);

/**
 * The log entries of one put made at `atMs` and of what was drained right after it: the put's
 * own entry (delivered, numbered by `wakeupAt`, or waiting until `dueMs`, or unchanged), and a
 * `batch` entry for each other delivery drained with it.
 */
export function putEntries(
  atMs: number,
  path: string,
  put: Put,
  changed: boolean,
  delivered: readonly WatchDelivery[],
  wakeupAt: (atMs: number) => number | undefined,
  dueMs: number | undefined,
): RelayLogEntry[] {
  const own = delivered.find((d) => d.kind === "data" && d.path === path);
  const entry: RelayLogEntry = {
    atMs,
    what: put.urgent ? "urgent" : "batched",
    path,
    netW: netOf(put.map.netEnergy),
    wakeup: own ? wakeupAt(own.atMs) : undefined,
    bytes: own?.bytes ?? 0,
    dueMs: own || !changed ? undefined : dueMs,
    // An urgent put equal to an item still waiting sends that item: not "unchanged".
    unchanged: !changed && !own,
    count: 1,
    looking: false,
  };
  return [...delivered.filter((d) => d !== own).map((d) => deliveryEntry(d, wakeupAt(d.atMs))), entry];
}

/** A delivery no put of this moment asked for: a batch that fell due, or a message. */
export function deliveryEntry(delivery: WatchDelivery, wakeup: number | undefined): RelayLogEntry {
  return {
    atMs: delivery.atMs,
    what: delivery.kind === "message" ? "message" : "batch",
    path: delivery.path,
    netW: netOf(deliveredFields(delivery)?.netEnergy),
    wakeup,
    bytes: delivery.bytes,
    dueMs: undefined,
    unchanged: false,
    count: 1,
    looking: false,
  };
}

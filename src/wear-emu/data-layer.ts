/**
 * A pure model of the Wear OS Data Layer between the phone and the watch, as the relay sees it
 * (issue 5; "The phone relay the wear-emu replaces" in design.md). No timers and no I/O: every
 * call carries the simulated time `atMs`, which must never go backwards. What reaches the watch
 * is returned by `drain()`; each returned delivery stands for one `onDataChanged` /
 * `onMessageReceived` call on the watch, and `stats` counts the wake-ups and bytes that the
 * watch energy model prices.
 */

export const DATA_LAYER_ERRORS = { TARGET_NODE_NOT_CONNECTED: 4000, DATA_ITEM_TOO_LARGE: 4003 } as const;
export type DataLayerErrorName = keyof typeof DATA_LAYER_ERRORS;
export type DataLayerErrorCode = (typeof DATA_LAYER_ERRORS)[DataLayerErrorName];

/** The platform's limit on one data item (`DataItem` payloads above it throw 4003). */
export const MAX_DATA_ITEM_BYTES = 100 * 1024;

/** A failure the platform reports with a status code; the message names the code. */
export class DataLayerError extends Error {
  readonly code: DataLayerErrorCode;

  constructor(code: DataLayerErrorCode, detail: string, options: { cause?: unknown } = {}) {
    const name = Object.entries(DATA_LAYER_ERRORS).find(([, c]) => c === code)?.[0] ?? "UNKNOWN";
    super(`${name} (${code}): ${detail}`, { cause: options.cause });
    this.name = "DataLayerError";
    this.code = code;
  }
}

export type DataValue = string | number | boolean;
export type DataMap = Readonly<Record<string, DataValue>>;

const utf8 = new TextEncoder();

/**
 * The bytes the platform compares: deterministic (keys sorted), so equal maps give equal bytes.
 * JSON of sorted `[key, value]` pairs keeps `"1"` and `1` apart. Non-finite numbers are refused
 * because JSON would turn them into `null` and make different maps compare equal.
 */
export function encodeDataMap(map: DataMap): Uint8Array {
  const pairs = Object.keys(map)
    .sort()
    .map((key) => {
      const value = map[key];
      if (typeof value === "number" && !Number.isFinite(value)) {
        throw new RangeError(`data map key "${key}" holds ${value}; only finite numbers can be encoded`);
      }
      return [key, value];
    });
  return utf8.encode(JSON.stringify(pairs));
}

export interface WatchDelivery {
  readonly atMs: number;
  readonly kind: "data" | "message";
  readonly path: string;
  /** Encoded map (data) or payload (message), plus the UTF-8 path. */
  readonly bytes: number;
  /** A data item's flag from its newest put; always true for a message (messages never wait). */
  readonly urgent: boolean;
  readonly data?: DataMap;
  readonly payload?: Uint8Array;
}

export interface DataLayerOptions {
  /** How long a non-urgent data item may wait before delivery (the platform allows up to 30 minutes). Default 30 min. */
  readonly batchDelayMs?: number;
}

export interface DataLayerStats {
  /** Distinct delivery times at which something reached the watch. */
  wakeups: number;
  /** Bytes delivered to the watch (see `WatchDelivery.bytes`). */
  bytes: number;
  /** Data items delivered (each one an `onDataChanged`). */
  dataItems: number;
  /** Messages delivered (each one an `onMessageReceived`). */
  messages: number;
  /** Puts whose bytes equalled the stored item: no change, nothing sent. */
  unchangedPuts: number;
}

interface Pending {
  readonly data: DataMap;
  readonly encoded: Uint8Array;
  readonly urgent: boolean;
  /** When this path started waiting; a replacement keeps it, so rewrites cannot starve delivery. */
  readonly sinceMs: number;
}

const DEFAULT_BATCH_DELAY_MS = 30 * 60_000;

export class DataLayer {
  readonly stats: DataLayerStats = { wakeups: 0, bytes: 0, dataItems: 0, messages: 0, unchangedPuts: 0 };
  private readonly batchDelayMs: number;
  private connected = true; // a paired watch starts connected
  private nowMs = -Infinity;
  private lastWakeMs: number | undefined;
  /** The phone's data items, by path: what a put is compared with. */
  private readonly phoneItems = new Map<string, Uint8Array>();
  /** The bytes the watch holds, by path: a delivery equal to them fires nothing. */
  private readonly watchItems = new Map<string, Uint8Array>();
  /** Items waiting for delivery, newest form per path, in order of first put. */
  private readonly pending = new Map<string, Pending>();
  /** Deliveries made but not yet drained, in time order. */
  private readonly outbox: WatchDelivery[] = [];

  constructor(options: DataLayerOptions = {}) {
    const delay = options.batchDelayMs ?? DEFAULT_BATCH_DELAY_MS;
    if (!Number.isFinite(delay) || delay < 0) throw new RangeError(`batchDelayMs must be a finite number ≥ 0, got ${delay}`);
    this.batchDelayMs = delay;
  }

  get watchConnected(): boolean {
    return this.connected;
  }

  /** While disconnected, data items wait; on reconnect everything waiting goes in one delivery. */
  setWatchConnected(atMs: number, connected: boolean): void {
    this.advance(atMs);
    this.connected = connected;
    if (connected) this.deliverPending(atMs);
  }

  /**
   * The phone puts a data item for the watch. Returns whether it changed anything: bytes equal to
   * the item stored at that path → false, no `onDataChanged`, counted in `unchangedPuts`.
   * Urgent: delivered now (with everything waiting), or on reconnect; an unchanged item still
   * waiting is sent now too. Non-urgent: waits (see `nextDueMs`).
   * A path replaced before its delivery is delivered only in its newest form, and not at all if
   * that form equals what the watch already has.
   */
  putDataItem(atMs: number, path: string, map: DataMap, options: { readonly urgent: boolean }): boolean {
    checkPath(path);
    const encoded = encodeDataMap(map);
    if (encoded.length > MAX_DATA_ITEM_BYTES) {
      throw new DataLayerError(
        DATA_LAYER_ERRORS.DATA_ITEM_TOO_LARGE,
        `data item ${path} is ${encoded.length} bytes, over the ${MAX_DATA_ITEM_BYTES}-byte limit`,
      );
    }
    this.advance(atMs);
    const stored = this.phoneItems.get(path);
    if (stored !== undefined && sameBytes(stored, encoded)) {
      this.stats.unchangedPuts += 1;
      // Unchanged, but still waiting for its batch: an urgent put sends it now.
      const waiting = this.pending.get(path);
      if (options.urgent && waiting && !waiting.urgent) {
        this.pending.set(path, { ...waiting, urgent: true });
        if (this.connected) this.deliverPending(atMs);
      }
      return false;
    }
    this.phoneItems.set(path, encoded);
    const sinceMs = this.pending.get(path)?.sinceMs ?? atMs;
    this.pending.set(path, { data: Object.freeze({ ...map }), encoded, urgent: options.urgent, sinceMs });
    if (options.urgent && this.connected) this.deliverPending(atMs);
    return true;
  }

  /**
   * Phone → watch message, delivered at once; a disconnected watch → 4000. Messages are a channel
   * of their own: they do not carry waiting data items along (only an urgent data item does).
   */
  sendMessage(atMs: number, path: string, payload: Uint8Array): void {
    checkPath(path);
    this.advance(atMs);
    if (!this.connected) {
      throw new DataLayerError(DATA_LAYER_ERRORS.TARGET_NODE_NOT_CONNECTED, `message ${path}: the watch is not connected`);
    }
    const bytes = payload.length + utf8.encode(path).length;
    this.deliver({ atMs, kind: "message", path, bytes, urgent: true, payload: payload.slice() });
    this.stats.messages += 1;
  }

  /** Everything delivered to the watch up to and including `atMs`, in time order. */
  drain(atMs: number): WatchDelivery[] {
    this.advance(atMs);
    const count = this.outbox.findIndex((d) => d.atMs > atMs);
    return this.outbox.splice(0, count === -1 ? this.outbox.length : count);
  }

  /** When the waiting non-urgent items fall due: the oldest is `batchDelayMs` old. None while disconnected. */
  nextDueMs(): number | undefined {
    if (!this.connected) return undefined;
    let oldest: number | undefined;
    for (const item of this.pending.values()) oldest = Math.min(oldest ?? item.sinceMs, item.sinceMs);
    return oldest === undefined ? undefined : oldest + this.batchDelayMs;
  }

  /** Moves simulated time to `atMs`, first making the batch delivery that fell due on the way. */
  private advance(atMs: number): void {
    if (!Number.isFinite(atMs) || atMs < this.nowMs) {
      throw new RangeError(`time must not go backwards: ${atMs} after ${this.nowMs}`);
    }
    this.nowMs = atMs;
    const due = this.nextDueMs();
    // One check suffices: a due batch takes every waiting item, and later puts are not yet due.
    if (due !== undefined && due <= atMs) this.deliverPending(due);
  }

  /** All waiting items go in one delivery; those equal to the watch's copy fire nothing. */
  private deliverPending(atMs: number): void {
    for (const [path, item] of this.pending) {
      const held = this.watchItems.get(path);
      if (held !== undefined && sameBytes(held, item.encoded)) continue;
      this.watchItems.set(path, item.encoded);
      const bytes = item.encoded.length + utf8.encode(path).length;
      this.deliver({ atMs, kind: "data", path, bytes, urgent: item.urgent, data: item.data });
      this.stats.dataItems += 1;
    }
    this.pending.clear();
  }

  private deliver(delivery: WatchDelivery): void {
    // Several deliveries at the same instant wake the watch once.
    if (this.lastWakeMs !== delivery.atMs) this.stats.wakeups += 1;
    this.lastWakeMs = delivery.atMs;
    this.stats.bytes += delivery.bytes;
    this.outbox.push(delivery);
  }
}

function checkPath(path: string): void {
  if (!path.startsWith("/")) throw new RangeError(`Data Layer path "${path}" must start with "/"`);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

import { createServer, type Server, type Socket } from "node:net";
import { EcwatchError, errorMessage } from "../errors.js";
import { type BroadcastTarget, broadcastCommand, broadcastSucceeded, MAX_WATCH_LINE_BYTES, parseWatchMessage, type WatchMessage } from "./bridge-protocol.js";
import type { WatchDelivery } from "./data-layer.js";
import { REQUEST_LATEST_PATH } from "./policy.js";

/** A device as the bridge lists it. */
export interface BridgeDevice {
  readonly serial: string;
  /** `device` when usable; `offline`, `unauthorized`, `connecting`, … otherwise. */
  readonly state: string;
}

/**
 * What the relay needs to reach a watch app on a device (issue 16): list the devices, forward
 * a port back from the device, run a shell command on it. The adb client (adb/adb-client.ts)
 * implements it; app/ builds it.
 */
export interface DeviceBridge {
  /** Makes sure the bridge answers (starting adb's server when none runs). */
  ensureServer(): Promise<void>;
  devices(): Promise<BridgeDevice[]>;
  /** Connections to `remote` on the device reach `local` here. */
  reverse(serial: string, remote: string, local: string): Promise<void>;
  removeReverse(serial: string, remote: string): Promise<void>;
  /** The command's output. */
  shell(serial: string, commandLine: string): Promise<string>;
}

export interface AdbWatchOptions {
  readonly adb: DeviceBridge;
  /** The device; undefined: the only one attached. */
  readonly serial: string | undefined;
  readonly target: BroadcastTarget;
  /** `adb reverse tcp:<port> tcp:<port>`: the watch app connects to this port on the watch, the relay listens on it here. */
  readonly reversePort: number;
  readonly onMessage: (message: WatchMessage) => void;
  /** The device became usable (`device`, reverse set up) or went away. */
  readonly onConnected: (connected: boolean) => void;
  /** How often the device list is read. Default 500 ms. */
  readonly pollMs?: number;
}

export interface AdbWatchStatus {
  /** The device in use, or the one waited for. */
  readonly serial: string | undefined;
  readonly state: "waiting" | "connected";
  /** Why the relay waits, in a few words (`no device attached`, `emulator-5554 is offline`, …). */
  readonly detail: string;
  readonly broadcasts: number;
  readonly failedBroadcasts: number;
  readonly messages: number;
  readonly rejectedLines: number;
  readonly lastProblem: string | undefined;
}

/**
 * A watch app on an emulator or a device, reached through adb: each delivery becomes an
 * `am broadcast` to the app, the app's messages come back as JSON lines over `adb reverse`.
 * It waits for the device to be `device`, follows it going away and coming back (setting the
 * reverse up again), and re-sends what could not be delivered while it was gone — the newest
 * per path, as the Data Layer would.
 */
export class AdbWatch {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private serial: string | undefined;
  private connected = false;
  private detail = "looking for a device";
  private counts = { broadcasts: 0, failedBroadcasts: 0, messages: 0, rejectedLines: 0 };
  private lastProblem: string | undefined;
  private seq = 0;
  /** Deliveries not yet broadcast, newest per path, in order. */
  private readonly queue = new Map<string, WatchDelivery>();
  private sending = false;
  private poller: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: AdbWatchOptions) {
    this.serial = options.serial;
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Listens for the watch's messages and starts following the device. */
  async start(): Promise<void> {
    await this.options.adb.ensureServer();
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", (err: NodeJS.ErrnoException) =>
        reject(
          err.code === "EADDRINUSE"
            ? new EcwatchError("PORT_IN_USE", `Port ${this.options.reversePort} for the watch's messages is in use.`, { hint: "Pass another --reverse-port.", exitCode: 2 })
            : err,
        ),
      );
      this.server.listen({ port: this.options.reversePort, host: "127.0.0.1", exclusive: true }, resolve);
    });
    this.polling = this.poll();
    await this.polling;
    this.poller = setInterval(() => {
      this.polling = this.polling.then(() => this.poll());
    }, this.options.pollMs ?? 500);
  }

  /** Removes the reverse (when the device is still there) and closes the message socket. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poller);
    await this.polling;
    if (this.connected && this.serial) await this.options.adb.removeReverse(this.serial, this.reverseSpec()).catch(() => undefined);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Hands a delivery to the watch app (in order; a path not yet sent is replaced by its newer form). */
  deliver(delivery: WatchDelivery): void {
    this.queue.delete(delivery.path);
    this.queue.set(delivery.path, delivery);
    void this.send();
  }

  status(): AdbWatchStatus {
    return { serial: this.serial, state: this.connected ? "connected" : "waiting", detail: this.detail, ...this.counts, lastProblem: this.lastProblem };
  }

  private reverseSpec(): string {
    return `tcp:${this.options.reversePort}`;
  }

  /** One look at the device list: connect when the device is usable, disconnect when it is not. */
  private async poll(): Promise<void> {
    if (this.stopped) return;
    let devices: BridgeDevice[];
    try {
      devices = await this.options.adb.devices();
    } catch (err) {
      this.setDisconnected(`adb server unreachable (${errorMessage(err)})`);
      return;
    }
    const chosen = this.choose(devices);
    if (!chosen.device) {
      this.setDisconnected(chosen.detail);
      return;
    }
    if (this.connected) return;
    this.serial = chosen.device.serial;
    try {
      await this.options.adb.reverse(this.serial, this.reverseSpec(), this.reverseSpec());
    } catch (err) {
      this.setDisconnected(`adb reverse on ${this.serial} failed: ${errorMessage(err)}`);
      return;
    }
    this.connected = true;
    this.detail = `${this.serial} connected`;
    this.options.onConnected(true);
    void this.send();
  }

  private choose(devices: BridgeDevice[]): { device?: BridgeDevice; detail: string } {
    if (this.options.serial !== undefined) {
      const device = devices.find((d) => d.serial === this.options.serial);
      if (!device) return { detail: `waiting for ${this.options.serial}` };
      return device.state === "device" ? { device, detail: "" } : { detail: `${device.serial} is ${device.state}` };
    }
    const usable = devices.filter((d) => d.state === "device");
    if (usable.length === 1) return { device: usable[0]!, detail: "" };
    if (usable.length > 1) return { detail: `several devices (${usable.map((d) => d.serial).join(", ")}): pass --watch adb:<serial>` };
    return { detail: devices.length ? devices.map((d) => `${d.serial} is ${d.state}`).join(", ") : "no device attached" };
  }

  private setDisconnected(detail: string): void {
    this.detail = detail;
    if (!this.connected) return;
    this.connected = false;
    if (this.options.serial === undefined) this.serial = undefined;
    this.options.onConnected(false);
  }

  /** Broadcasts the queue in order while the device is connected; one broadcast at a time. */
  private async send(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.connected && !this.stopped && this.serial) {
        const next = this.queue.values().next();
        if (next.done) break;
        const delivery = next.value;
        this.queue.delete(delivery.path);
        const seq = ++this.seq;
        try {
          const output = await this.options.adb.shell(this.serial, broadcastCommand(this.options.target, delivery, seq));
          if (broadcastSucceeded(output)) this.counts.broadcasts += 1;
          else {
            this.counts.failedBroadcasts += 1;
            this.lastProblem = `am broadcast on ${this.serial}: ${output.trim().split("\n").at(-1) ?? "no output"}`;
          }
        } catch (err) {
          // The device went away mid-send: keep the delivery unless a newer one took its place.
          if (!this.queue.has(delivery.path)) this.queue.set(delivery.path, delivery);
          this.lastProblem = `broadcast to ${this.serial} failed: ${errorMessage(err)}`;
          this.setDisconnected(`${this.serial} went away`);
        }
      }
    } finally {
      this.sending = false;
    }
  }

  /** A connection from the watch app through the reverse: one JSON message per line. */
  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let pending = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line) this.receive(line);
      }
      if (Buffer.byteLength(pending) > MAX_WATCH_LINE_BYTES) {
        this.reject(`a line from the watch over ${MAX_WATCH_LINE_BYTES} bytes; connection closed`);
        socket.destroy();
      }
    });
  }

  private receive(line: string): void {
    const message = parseWatchMessage(line, REQUEST_LATEST_PATH);
    if ("error" in message) {
      this.reject(`ignored a line from the watch: ${message.error}`);
      return;
    }
    this.counts.messages += 1;
    this.options.onMessage(message);
  }

  private reject(text: string): void {
    this.counts.rejectedLines += 1;
    this.lastProblem = text;
  }
}

import { EventEmitter } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { Readable } from "node:stream";
import { freePort } from "../../src/stack/ports.js";

/**
 * A stand-in for a watch's adbd over TCP: the device side of the ADB transport protocol
 * (AOSP packages/modules/adb/protocol.txt), enough for a real adb server to `adb connect` to
 * it, run `shell:` commands, set `adb reverse` and carry connections the "watch" opens back.
 */

/** Packet commands: their four ASCII letters read as a little-endian word. */
export const AdbCommand = {
  CNXN: 0x4e584e43,
  OPEN: 0x4e45504f,
  OKAY: 0x59414b4f,
  WRTE: 0x45545257,
  CLSE: 0x45534c43,
  AUTH: 0x48545541,
} as const;

export interface AdbPacket {
  readonly command: number;
  readonly arg0: number;
  readonly arg1: number;
  readonly data: Buffer;
}

const HEADER_BYTES = 24;
/** Protocol version 1.0.1: both sides may skip the payload checksum (we still send a correct one). */
const PROTOCOL_VERSION = 0x01000001;
const MAX_DATA = 256 * 1024;
const EMPTY: Buffer = Buffer.alloc(0);

/** One packet on the wire: the 24-byte little-endian header, then the payload. */
export function encodePacket({ command, arg0, arg1, data }: AdbPacket): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(command, 0);
  header.writeUInt32LE(arg0, 4);
  header.writeUInt32LE(arg1, 8);
  header.writeUInt32LE(data.length, 12);
  header.writeUInt32LE(data.reduce((sum, byte) => sum + byte, 0) >>> 0, 16);
  header.writeUInt32LE((command ^ 0xffffffff) >>> 0, 20);
  return Buffer.concat([header, data]);
}

/**
 * The whole packets at the start of `buffer`, and the bytes of an incomplete one that follow.
 * Checksums are not verified: a 1.0.1 host sends 0. A wrong magic means we lost the framing.
 */
export function decodePackets(buffer: Buffer): { packets: AdbPacket[]; rest: Buffer } {
  const packets: AdbPacket[] = [];
  let offset = 0;
  while (buffer.length - offset >= HEADER_BYTES) {
    const command = buffer.readUInt32LE(offset);
    if (buffer.readUInt32LE(offset + 20) !== (command ^ 0xffffffff) >>> 0) {
      throw new Error(`bad magic for command 0x${command.toString(16)} at byte ${offset}`);
    }
    const end = offset + HEADER_BYTES + buffer.readUInt32LE(offset + 12);
    if (buffer.length < end) break;
    packets.push({ command, arg0: buffer.readUInt32LE(offset + 4), arg1: buffer.readUInt32LE(offset + 8), data: buffer.subarray(offset + HEADER_BYTES, end) });
    offset = end;
  }
  return { packets, rest: buffer.subarray(offset) };
}

/**
 * Splits a command line into argv as a POSIX shell does, without expansions: whitespace
 * separates words; '…' is literal; in "…" a backslash escapes only $ ` " \ and newline;
 * outside quotes a backslash escapes any character (backslash-newline joins lines).
 */
export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i]!;
    if (c === " " || c === "\t" || c === "\n") {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error("unterminated quoted string");
      word = (word ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      word ??= "";
      for (i += 1; line[i] !== '"'; i += 1) {
        if (i >= line.length) throw new Error("unterminated quoted string");
        const next = line[i + 1];
        if (line[i] === "\\" && next !== undefined && '$`"\\\n'.includes(next)) {
          i += 1;
          if (next !== "\n") word += next;
        } else {
          word += line[i];
        }
      }
    } else if (c === "\\") {
      i += 1;
      if (i < line.length && line[i] !== "\n") word = (word ?? "") + line[i];
    } else {
      word = (word ?? "") + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

export interface FakeAdbdOptions {
  /** Port on 127.0.0.1; default a free one. A stopped stand-in's port brings "the same watch" back. */
  port?: number;
  /** `ro.product.name`; default "ecwatch_watch". */
  product?: string;
  /** `ro.product.model`; default "Wear OS stand-in". */
  model?: string;
  /** `ro.product.device`; default "wear". */
  device?: string;
  /**
   * Features in the banner; default `cmd,stat_v2`. Without `shell_v2` the host runs plain
   * `shell:` services: output is one raw stream and `adb shell` exits 0 whatever the command did.
   */
  features?: readonly string[];
  /** Output of a shell command instead of the built-in one (undefined: the built-in one). */
  onShell?: (argv: readonly string[]) => string | undefined;
}

/** A command line the host ran with `adb shell`, as the device shell split it. */
export interface ShellCommand {
  readonly commandLine: string;
  readonly argv: readonly string[];
  readonly atMs: number;
}

/** One ADB stream, seen from the device. */
export interface FakeStream {
  /** What the host wrote; ends when the stream closes. */
  readonly readable: Readable;
  /** Sends in chunks of the negotiated size, each after the host acknowledged the previous one. */
  write(data: string | Buffer): Promise<void>;
  close(): void;
  /** Resolves when either side closed the stream or the connection went away. */
  readonly closed: Promise<void>;
}

/** What a stream needs of its connection. */
interface StreamLink {
  send(command: number, arg0: number, arg1: number, data?: Buffer): void;
  maxData(): number;
  forget(localId: number): void;
}

interface Deferred {
  resolve(): void;
  reject(err: Error): void;
}

class Stream implements FakeStream {
  /** The host's id for this stream; 0 until it accepted our OPEN. */
  remoteId = 0;
  readonly readable = new Readable({ read() {} });
  readonly closed: Promise<void>;
  /** Settles when the host accepted (OKAY) or refused (CLSE) our OPEN. */
  readonly opened: Promise<void>;
  private opening: Deferred | undefined;
  private ack: Deferred | undefined;
  private writing = Promise.resolve();
  private ended = false;
  private markClosed!: () => void;

  constructor(
    readonly localId: number,
    readonly service: string,
    private readonly link: StreamLink,
  ) {
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    this.opened = new Promise((resolve, reject) => (this.opening = { resolve, reject }));
  }

  write(data: string | Buffer): Promise<void> {
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    const done = this.writing.then(async () => {
      const size = this.link.maxData();
      for (let offset = 0; offset < bytes.length; offset += size) {
        if (this.ended) throw new Error(`stream ${this.service} is closed`);
        const acked = new Promise<void>((resolve, reject) => (this.ack = { resolve, reject }));
        this.link.send(AdbCommand.WRTE, this.localId, this.remoteId, bytes.subarray(offset, offset + size));
        await acked;
      }
    });
    this.writing = done.catch(() => undefined);
    return done;
  }

  close(): void {
    this.finish(true);
  }

  /** The host's OKAY: it accepted our OPEN (the first one) or our last WRTE. */
  onOkay(remoteId: number): void {
    if (this.remoteId === 0) {
      this.remoteId = remoteId;
      this.opening?.resolve();
      this.opening = undefined;
    } else {
      this.ack?.resolve();
    }
    this.ack = undefined;
  }

  /** Ends the stream; `notifyHost` sends CLSE (no use when the connection is gone). */
  finish(notifyHost: boolean): void {
    if (this.ended) return;
    this.ended = true;
    if (notifyHost && this.remoteId !== 0) this.link.send(AdbCommand.CLSE, this.localId, this.remoteId);
    this.opening?.reject(new Error(`the host refused ${this.service}`));
    this.ack?.reject(new Error(`stream ${this.service} closed`));
    this.readable.push(null);
    this.link.forget(this.localId);
    this.markClosed();
  }
}

/**
 * The device, listening on 127.0.0.1:`port`, with one host connection at a time (a new one
 * replaces the old). Emits "shell" with each {@link ShellCommand}.
 *
 * When the device goes away (`stop()`), adb 29 lists it as `offline` and reconnects by itself
 * about 10 s later (AOSP transport.cpp, ReconnectHandler) if a stand-in listens on the port
 * again. Until then `adb connect` only answers "already connected"; `adb disconnect` first
 * makes it connect at once (what `AdbServer.connect` does).
 */
export class FakeAdbd extends EventEmitter {
  readonly serial: string;
  /** Every shell command the host ran, oldest first. */
  readonly shellCommands: ShellCommand[] = [];
  private readonly reversed = new Map<string, string>();
  private maxData = MAX_DATA;
  private socket: Socket | undefined;
  private received: Buffer = EMPTY;
  private readonly streams = new Map<number, Stream>();
  private nextId = 1;
  private hostLinks = 0;
  private readonly properties: Map<string, string>;
  private readonly banner: string;
  private readonly link: StreamLink = {
    send: (command, arg0, arg1, data) => this.send(command, arg0, arg1, data),
    maxData: () => this.maxData,
    forget: (localId) => this.streams.delete(localId),
  };

  constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly options: FakeAdbdOptions,
  ) {
    super();
    this.serial = `127.0.0.1:${port}`;
    this.properties = new Map([
      ["ro.product.name", options.product ?? "ecwatch_watch"],
      ["ro.product.model", options.model ?? "Wear OS stand-in"],
      ["ro.product.device", options.device ?? "wear"],
    ]);
    const props = [...this.properties].map(([key, value]) => `${key}=${value};`).join("");
    this.banner = `device::${props}features=${(options.features ?? ["cmd", "stat_v2"]).join(",")}`;
    server.on("connection", (socket) => this.attach(socket));
  }

  /** `adb reverse` mappings: device side (`tcp:8123`) → host side. Lost when the host goes away. */
  get reverses(): ReadonlyMap<string, string> {
    return this.reversed;
  }

  /**
   * Opens a connection from the watch to `tcp:<devicePort>`, which `adb reverse` carries to the
   * host; rejects like a refused connection when no reverse maps that port or the host cannot
   * connect. Only mappings the host set may be opened: adb 29 aborts (LOG(FATAL) "disallowed
   * connect to") when a device opens a host address no `adb reverse` asked for.
   */
  async openReverse(devicePort: number): Promise<FakeStream> {
    const target = this.reversed.get(`tcp:${devicePort}`);
    if (target === undefined) throw new Error(`connection refused: no adb reverse for tcp:${devicePort} on ${this.serial}`);
    const stream = this.newStream(target);
    this.send(AdbCommand.OPEN, stream.localId, 0, Buffer.from(`${target}\0`));
    await stream.opened;
    return stream;
  }

  /** The device goes away: the listener and the host connection close. */
  stop(): Promise<void> {
    this.detach();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private send(command: number, arg0: number, arg1: number, data: Buffer = EMPTY): void {
    this.socket?.write(encodePacket({ command, arg0, arg1, data }));
  }

  private attach(socket: Socket): void {
    this.detach();
    this.socket = socket;
    this.hostLinks += 1;
    socket.on("data", (chunk) => this.onBytes(chunk));
    socket.on("error", () => undefined); // "close" follows
    socket.on("close", () => this.socket === socket && this.detach());
  }

  private detach(): void {
    this.socket?.destroy();
    this.socket = undefined;
    this.received = EMPTY;
    for (const stream of [...this.streams.values()]) stream.finish(false);
    this.reversed.clear();
  }

  private onBytes(chunk: Buffer): void {
    try {
      const { packets, rest } = decodePackets(Buffer.concat([this.received, chunk]));
      this.received = rest;
      for (const packet of packets) this.onPacket(packet);
    } catch {
      this.detach(); // the framing is lost: a real adbd drops the connection too
    }
  }

  private onPacket({ command, arg0, arg1, data }: AdbPacket): void {
    switch (command) {
      case AdbCommand.CNXN:
        // No AUTH: the stand-in trusts every host, as a device with auth disabled does.
        this.maxData = Math.min(arg1, MAX_DATA);
        this.send(AdbCommand.CNXN, PROTOCOL_VERSION, this.maxData, Buffer.from(this.banner));
        return;
      case AdbCommand.OPEN:
        this.onOpen(arg0, data.toString("utf8").replace(/\0+$/, ""));
        return;
      case AdbCommand.OKAY:
        this.streams.get(arg1)?.onOkay(arg0);
        return;
      case AdbCommand.WRTE: {
        const stream = this.streams.get(arg1);
        if (!stream) return;
        stream.readable.push(Buffer.from(data));
        this.send(AdbCommand.OKAY, stream.localId, arg0);
        return;
      }
      case AdbCommand.CLSE:
        // After our own CLSE the stream is gone and the host's answer is ignored here.
        this.streams.get(arg1)?.finish(true);
        return;
      // Anything else (AUTH included) is ignored.
    }
  }

  /** A service the host opens: reply with the whole output and close, or refuse with CLSE. */
  private onOpen(remoteId: number, service: string): void {
    const reply = service.startsWith("shell:") ? this.shell(service.slice(6)) : service.startsWith("reverse:") ? this.reverse(service.slice(8)) : undefined;
    if (reply === undefined) {
      this.send(AdbCommand.CLSE, 0, remoteId);
      return;
    }
    const stream = this.newStream(service);
    stream.onOkay(remoteId); // the host's OPEN is its acceptance
    this.send(AdbCommand.OKAY, stream.localId, remoteId);
    stream.write(reply).then(() => stream.close(), () => undefined);
  }

  private newStream(service: string): Stream {
    const stream = new Stream(this.nextId++, service, this.link);
    this.streams.set(stream.localId, stream);
    return stream;
  }

  private shell(commandLine: string): string {
    let argv: string[];
    try {
      argv = splitShellWords(commandLine);
    } catch (err) {
      return `/system/bin/sh: syntax error: ${(err as Error).message}\n`;
    }
    const command: ShellCommand = { commandLine, argv, atMs: Date.now() };
    this.shellCommands.push(command);
    this.emit("shell", command);
    return this.options.onShell?.(argv) ?? this.builtInShell(argv);
  }

  private builtInShell([program, ...args]: string[]): string {
    if (program === undefined) return "";
    if (program === "am" && args[0] === "broadcast") {
      const action = args.indexOf("-a") >= 0 ? `act=${args[args.indexOf("-a") + 1]} ` : "";
      const extras = args.some((arg) => /^--?e/.test(arg)) ? " (has extras)" : "";
      return `Broadcasting: Intent { ${action}flg=0x400000${extras} }\nBroadcast completed: result=0\n`;
    }
    if (program === "echo") return `${args.join(" ")}\n`;
    if (program === "getprop") return `${this.properties.get(args[0] ?? "") ?? ""}\n`;
    return `/system/bin/sh: ${program}: inaccessible or not found\n`;
  }

  /**
   * adbd's reply to `reverse:<request>` (handle_forward_request in AOSP adb.cpp): on the device
   * one status (`OKAY`, or `FAIL` + hex length + message), no connect-OKAY (the server sends
   * that); `list-forward` is a hex-length string only.
   */
  private reverse(request: string): string {
    const fail = (message: string) => `FAIL${hexLength(message)}${message}`;
    if (request === "list-forward") {
      // A real adbd over TCP names its link to the host `host-<fd>`; we number the links.
      const listing = [...this.reversed].map(([remote, local]) => `host-${this.hostLinks} ${remote} ${local}\n`).join("");
      return `${hexLength(listing)}${listing}`;
    }
    if (request === "killforward-all") {
      this.reversed.clear();
      return "OKAY";
    }
    if (request.startsWith("killforward:")) {
      const remote = request.slice("killforward:".length);
      return this.reversed.delete(remote) ? "OKAY" : fail(`listener '${remote}' not found`);
    }
    const forward = /^forward:(norebind:)?([^;]+);(.+)$/.exec(request);
    if (!forward) return fail(`bad forward: ${request}`);
    const [, norebind, requested, local] = forward as unknown as [string, string | undefined, string, string];
    if (norebind && this.reversed.has(requested)) return fail("cannot rebind existing socket");
    let remote = requested;
    let resolved = "";
    if (requested === "tcp:0") {
      let port = 40_000;
      while (this.reversed.has(`tcp:${port}`)) port += 1;
      remote = `tcp:${port}`;
      resolved = `${hexLength(String(port))}${port}`;
    }
    this.reversed.set(remote, local);
    return `OKAY${resolved}`;
  }
}

function hexLength(text: string): string {
  return Buffer.byteLength(text).toString(16).padStart(4, "0");
}

/** Starts a stand-in watch listening on 127.0.0.1. */
export async function startFakeAdbd(options: FakeAdbdOptions = {}): Promise<FakeAdbd> {
  const port = options.port ?? (await freePort());
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host: "127.0.0.1" }, () => resolve());
  });
  return new FakeAdbd(server, port, options);
}

import { type Aggregate, type AggregatePosition, supersedes } from "../domain/aggregate.js";
import { type LastEventId, sseEventId } from "../wire/sse-event-id.js";

/** One SSE event of an aggregate; `id:` is its `<epoch>:<version>`, valid across API instances. */
export function formatEvent(aggregate: Aggregate, json = JSON.stringify(aggregate)): string {
  // The JSON comes verbatim from the change feed, where JSON may break lines between tokens: a
  // line break would end the event early (issue 10). Each line gets its own `data:` field,
  // which the client joins with LF (JSON reads that the same).
  const data = /[\r\n]/.test(json) ? json.split(/\r\n|\r|\n/).join("\ndata: ") : json;
  return `id: ${sseEventId(aggregate)}\ndata: ${data}\n\n`;
}

/*
 * No block without `data:` (issue 18): some clients dispatch a message at every blank line
 * (`@microsoft/fetch-event-source` does, with empty data), so a blank line only ever ends an
 * event. The lines below end with one LF and no blank line: they become the first lines of the
 * next event's block. A parser that follows the spec takes `retry` at once, when it reads the
 * line, and skips a comment line; fetch-event-source does the same; a client that reads only
 * `data:` lines (the prototype's Dart app) never looks at them.
 */

/** Written at connect: asks clients to reconnect after a second; it also sends the response's headers at once. */
export const RECONNECT_HINT = "retry: 1000\n";

/** A comment line that keeps an idle connection busy through proxies, and dispatches nothing. */
export const HEARTBEAT = ": keep-alive\n";

/** What forEachSseBlock reads: a response as text chunks (an `IncomingMessage`, or any readable stream). */
export interface SseBody {
  setEncoding(encoding: "utf8"): unknown;
  on(event: "data", listener: (chunk: string) => void): unknown;
}

/** The client side of the wire format: calls `onBlock` with each event (or comment) block of a response, without its blank line. */
export function forEachSseBlock(res: SseBody, onBlock: (block: string) => void): void {
  res.setEncoding("utf8");
  let buffer = "";
  res.on("data", (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      onBlock(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
    }
  });
}

/** What an SseClient needs of the response it writes to (a `ServerResponse`): write with back-pressure, "drain", and what is still buffered. */
export interface SseResponse {
  /** false when the socket's buffer is full: wait for "drain". */
  write(chunk: string): boolean;
  on(event: "drain", listener: () => void): unknown;
  /** Bytes written but not yet handed to the kernel. */
  readonly writableLength: number;
}

/** An event on its way to one client. */
interface PendingEvent {
  readonly text: string;
  readonly aggregate: Aggregate;
  readonly initial: boolean;
}

/**
 * One connected SSE client. It never queues: when the socket is backed up, only the
 * newest event is kept and written on `drain`; for a power gauge the latest value is
 * what matters, and a slow client cannot grow the server's memory.
 */
export class SseClient {
  /** The newest aggregate the client has: only one that supersedes it is sent. */
  private newest: AggregatePosition | undefined;
  /** An old numeric Last-Event-ID: the version, in epoch 0, the client has until it is sent anything. */
  private readonly bareVersion: number | undefined;
  private waiting: PendingEvent | undefined;
  private draining = false;

  /**
   * `lastEventId`: what the client resumed with. Version 0 is no aggregate of ecwatch's (its
   * versions start at 1; the prototype's values carry none), so it names nothing the client has.
   * A bare version (an API before epochs sent it) cannot be ordered against a reset's values:
   * the client gets whatever comes, except epoch 0's aggregate of that very version.
   */
  constructor(
    private readonly res: SseResponse,
    lastEventId: LastEventId | undefined,
    /** Called as an event is handed to the socket (metrics: events sent, end-to-end latency). */
    private readonly onSent?: (aggregate: Aggregate, initial: boolean) => void,
  ) {
    const named = lastEventId && lastEventId.version > 0 ? lastEventId : undefined;
    this.newest = named?.epoch === undefined ? undefined : { epoch: named.epoch, version: named.version };
    this.bareVersion = named?.epoch === undefined ? named?.version : undefined;
    res.on("drain", () => this.onDrain());
  }

  /**
   * Sends the aggregate unless the client has it or a newer one (see `supersedes`). `text` is its
   * event as `formatEvent` writes it: a community's clients share one (formatted once per change).
   */
  offer(aggregate: Aggregate, text?: string): void {
    this.send(aggregate, text, false);
  }

  /** The current value on connect: sent like any other, so skipped when the change feed brought a newer one first or Last-Event-ID names it (or a newer one). */
  offerInitial(aggregate: Aggregate): void {
    this.send(aggregate, undefined, true);
  }

  /**
   * Bytes this process holds for the client: what its socket has not yet handed to the
   * kernel, and the one event waiting for it to drain. Bounded by the socket's high-water
   * mark plus an event, however far behind the client is.
   */
  get pendingBytes(): number {
    return this.res.writableLength + (this.waiting?.text.length ?? 0);
  }

  heartbeat(): void {
    if (!this.draining && !this.res.write(HEARTBEAT)) this.draining = true;
  }

  private send(aggregate: Aggregate, text: string | undefined, initial: boolean): void {
    if (this.newest ? !supersedes(aggregate, this.newest) : aggregate.epoch === 0 && aggregate.version === this.bareVersion) return;
    this.newest = { epoch: aggregate.epoch, version: aggregate.version };
    this.write(text ?? formatEvent(aggregate), aggregate, initial);
  }

  private write(text: string, aggregate: Aggregate, initial: boolean): void {
    if (this.draining) {
      this.waiting = { text, aggregate, initial };
      return;
    }
    if (!this.res.write(text)) this.draining = true;
    this.onSent?.(aggregate, initial);
  }

  private onDrain(): void {
    this.draining = false;
    const event = this.waiting;
    this.waiting = undefined;
    if (event) this.write(event.text, event.aggregate, event.initial);
  }
}

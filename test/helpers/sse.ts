import { type IncomingHttpHeaders, request } from "node:http";
import { forEachSseBlock } from "../../src/api/sse.js";

export interface SseEvent {
  readonly id: string | undefined;
  readonly data: string;
}

/** A minimal SSE reader over node:http, so tests see exactly what the server sends. */
export class SseReader {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  status = 0;
  /** The response's headers. */
  headers: IncomingHttpHeaders = {};
  /** The local port of the stream's connection (see connectionOwner). */
  localPort = 0;
  /** True once the stream closed (the server ended it, or its connection broke). */
  ended = false;
  private waiters: Array<() => void> = [];
  private close: () => void = () => undefined;

  static open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const reader = new SseReader();
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { accept: "text/event-stream", ...headers } }, (res) => {
        reader.status = res.statusCode ?? 0;
        reader.headers = res.headers;
        reader.localPort = res.socket.localPort ?? 0;
        forEachSseBlock(res, (block) => reader.parse(block));
        res.once("close", () => {
          reader.ended = true;
        });
        resolve(reader);
      });
      req.on("error", reject);
      req.end();
      reader.close = () => req.destroy();
    });
  }

  private parse(block: string): void {
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) this.comments.push(line);
      else if (line.startsWith("id: ")) id = line.slice(4);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
    }
    if (data.length) {
      this.events.push({ id, data: data.join("\n") });
      const waiters = this.waiters;
      this.waiters = [];
      waiters.forEach((wake) => wake());
    }
  }

  /** Resolves with the first event (from index `from`) that satisfies `match`. */
  async waitFor(match: (event: SseEvent) => boolean, timeoutMs = 5_000, from = 0): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching SSE event within ${timeoutMs} ms (got ${this.events.length})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  stop(): void {
    this.close();
  }
}

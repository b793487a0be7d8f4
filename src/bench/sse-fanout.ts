import { type ClientRequest, get } from "node:http";
import { forEachSseBlock } from "../api/sse.js";
import { parseLastEventId } from "../wire/sse-event-id.js";
import { LatencyHistogram, type LatencySummary } from "./latency.js";

export interface FanoutReport {
  readonly clients: number;
  readonly connected: number;
  readonly events: number;
  /** Versions a client never saw between two it did see (coalesced for a slow client, or lost). */
  readonly missedUpdates: number;
  /** Clients without their community's newest (served) version when the run ends. */
  readonly behind: number;
  /** From the aggregate's computation (`aggregatedAt`) to its arrival at a client. */
  readonly deliveryMs: LatencySummary;
}

interface Client {
  readonly communityId: string;
  lastVersion: number;
  request?: ClientRequest;
}

/** What every client of a community receives is the same text: parse it once. */
interface Parsed {
  readonly data: string;
  readonly aggregatedAtMs: number;
  readonly measuredAtMs: number;
}

/**
 * Many SSE clients of the API in one process, spread over communities round-robin: each
 * checks that it sees every version of its community, and the time from aggregation to
 * arrival goes into one histogram. `onEvent` gets each event's arrival once per community
 * and version (for end-to-end latency).
 */
export class SseFanout {
  private readonly clients: Client[];
  private readonly delivery = new LatencyHistogram();
  private readonly newest = new Map<string, number>();
  private readonly lastParsed = new Map<string, Parsed>();
  private events = 0;
  private missed = 0;
  private connected = 0;

  constructor(
    private readonly apiUrl: string,
    communities: readonly string[],
    count: number,
    private readonly onEvent?: (communityId: string, version: number, measuredAtMs: number, arrivedAtMs: number) => void,
  ) {
    this.clients = Array.from({ length: count }, (_, i) => ({ communityId: communities[i % communities.length]!, lastVersion: -1 }));
  }

  /** Connects every client; resolves once all have their response headers. */
  async start(): Promise<void> {
    // In batches: thousands of simultaneous connects overflow the listen backlog.
    for (let i = 0; i < this.clients.length; i += 200) await Promise.all(this.clients.slice(i, i + 200).map((client) => this.connect(client)));
  }

  /** Resolves once every client has at least its community's version in `versions`, or after `timeoutMs`. */
  async caughtUp(versions: ReadonlyMap<string, number>, timeoutMs: number): Promise<void> {
    for (const [communityId, version] of versions) this.newest.set(communityId, Math.max(version, this.newest.get(communityId) ?? -1));
    const deadline = performance.now() + timeoutMs;
    while (this.clients.some((c) => c.lastVersion < (this.newest.get(c.communityId) ?? -1)) && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  stop(): FanoutReport {
    for (const client of this.clients) client.request?.destroy();
    const behind = this.clients.filter((c) => c.lastVersion < (this.newest.get(c.communityId) ?? -1)).length;
    return { clients: this.clients.length, connected: this.connected, events: this.events, missedUpdates: this.missed, behind, deliveryMs: this.delivery.summary() };
  }

  private connect(client: Client): Promise<void> {
    return new Promise((resolve, reject) => {
      const request = get(`${this.apiUrl}/communities/${encodeURIComponent(client.communityId)}/stream`, { agent: false, headers: { accept: "text/event-stream" } }, (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`SSE client got HTTP ${res.statusCode} for ${client.communityId}`));
          res.resume();
          return;
        }
        this.connected += 1;
        resolve();
        forEachSseBlock(res, (block) => this.receive(client, block));
      });
      request.on("error", (err) => (this.connected ? undefined : reject(err)));
      client.request = request;
    });
  }

  private receive(client: Client, block: string): void {
    const idAt = block.indexOf("id: ");
    const dataAt = block.indexOf("data: ");
    if (idAt < 0 || dataAt < 0) return; // a heartbeat
    const arrivedAtMs = Date.now();
    // A run stays in one epoch: the version alone orders its events.
    const version = parseLastEventId(block.slice(idAt + 4, block.indexOf("\n", idAt)))?.version ?? Number.NaN;
    const data = block.slice(dataAt + 6);
    this.events += 1;
    if (client.lastVersion >= 0 && version > client.lastVersion + 1) this.missed += version - client.lastVersion - 1;
    client.lastVersion = version;
    let parsed = this.lastParsed.get(client.communityId);
    if (parsed?.data !== data) {
      const aggregate = JSON.parse(data) as { aggregatedAt: string; measuredAt: string };
      parsed = { data, aggregatedAtMs: Date.parse(aggregate.aggregatedAt), measuredAtMs: Date.parse(aggregate.measuredAt) };
      this.lastParsed.set(client.communityId, parsed);
      if (version > (this.newest.get(client.communityId) ?? -1)) {
        this.newest.set(client.communityId, version);
        this.onEvent?.(client.communityId, version, parsed.measuredAtMs, arrivedAtMs);
      }
    }
    this.delivery.record(arrivedAtMs - parsed.aggregatedAtMs);
  }
}

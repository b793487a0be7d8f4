import { describe, expect, it } from "vitest";
import { HEARTBEAT, SseClient, type SseResponse, formatEvent } from "../../src/api/sse.js";
import type { Aggregate } from "../../src/domain/aggregate.js";
import { parseLastEventId } from "../../src/wire/sse-event-id.js";

/** The part of ServerResponse an SseClient uses: write with back-pressure, and "drain". */
class FakeResponse implements SseResponse {
  readonly chunks: string[] = [];
  /** Nothing is held back: the chunks are taken as written. */
  readonly writableLength = 0;
  /** What write returns: false simulates a socket whose buffer is full. */
  accepting = true;
  private drainListeners: Array<() => void> = [];

  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return this.accepting;
  }

  on(event: string, listener: () => void): this {
    if (event === "drain") this.drainListeners.push(listener);
    return this;
  }

  drain(): void {
    this.accepting = true;
    for (const listener of this.drainListeners) listener();
  }

  /** The ids sent, `<epoch>:<version>`. */
  get ids(): string[] {
    return this.chunks.filter((c) => c !== HEARTBEAT).map((c) => /^id: (.*)\n/.exec(c)?.[1] ?? "");
  }

  /** The versions sent, of events in EPOCH. */
  get versions(): number[] {
    return this.ids.map((id) => (id.startsWith(`${EPOCH}:`) ? Number(id.slice(`${EPOCH}:`.length)) : Number.NaN));
  }
}

/** The epoch of the aggregates below: their state was created at 2026-11-22T12:00Z. */
const EPOCH = 1_795_354_800_000;

const aggregate = (version: number, netW = 100, epoch = EPOCH): Aggregate => ({
  communityId: "community1",
  genW: 1000 + netW,
  conW: 1000,
  netW,
  meters: 3,
  stale: 0,
  measuredAt: "2026-11-22T12:00:00.000Z",
  aggregatedAt: "2026-11-22T12:00:00.100Z",
  version,
  epoch,
});

/** A client that connected with this Last-Event-ID header (or none). */
function connect(lastEventId?: string): { res: FakeResponse; client: SseClient } {
  const res = new FakeResponse();
  return { res, client: new SseClient(res, parseLastEventId(lastEventId)) };
}

describe("formatEvent", () => {
  it("writes the epoch and version as id and the aggregate as data, ended by a blank line", () => {
    const a = aggregate(7);
    expect(formatEvent(a)).toBe(`id: ${EPOCH}:7\ndata: ${JSON.stringify(a)}\n\n`);
  });

  it("uses pre-serialised JSON when given, so it is built once for all clients", () => {
    expect(formatEvent(aggregate(7), '{"x":1}')).toBe(`id: ${EPOCH}:7\ndata: {"x":1}\n\n`);
  });
});

describe("SseClient.offer", () => {
  it("sends only versions newer than the last one sent", () => {
    const { res, client } = connect();
    client.offer(aggregate(1));
    client.offer(aggregate(3));
    client.offer(aggregate(2));
    client.offer(aggregate(3));
    client.offer(aggregate(4));
    expect(res.versions).toEqual([1, 3, 4]);
  });

  it("sends the event text it is given (formatted once for all of a community's clients)", () => {
    const { res, client } = connect();
    client.offer(aggregate(1), formatEvent(aggregate(1), '{"pre":"serialised"}'));
    expect(res.chunks).toEqual([`id: ${EPOCH}:1\ndata: {"pre":"serialised"}\n\n`]);
  });

  it("does not send versions up to the client's Last-Event-ID", () => {
    const { res, client } = connect(`${EPOCH}:5`);
    client.offer(aggregate(5));
    client.offer(aggregate(6));
    expect(res.versions).toEqual([6]);
  });
});

describe("SseClient back-pressure", () => {
  it("while the socket is full, keeps only the newest pending event and writes it on drain", () => {
    const { res, client } = connect();
    res.accepting = false;
    client.offer(aggregate(1));
    client.offer(aggregate(2));
    client.offer(aggregate(3));
    client.offer(aggregate(4));
    expect(res.versions).toEqual([1]);
    res.drain();
    expect(res.versions).toEqual([1, 4]);
  });

  it("a slow client never queues more than one event, however many changes arrive", () => {
    const { res, client } = connect();
    res.accepting = false;
    client.offer(aggregate(1));
    for (let v = 2; v <= 1_000; v += 1) client.offer(aggregate(v));
    expect(res.chunks).toHaveLength(1);
    res.drain();
    expect(res.versions).toEqual([1, 1_000]);
  });

  it("stops again when the write on drain fills the socket once more", () => {
    const { res, client } = connect();
    res.accepting = false;
    client.offer(aggregate(1));
    client.offer(aggregate(2));
    // The drained socket takes event 2 but is full again right after it.
    res.drain();
    res.accepting = false;
    res.chunks.length = 0;
    client.offer(aggregate(3));
    client.offer(aggregate(4));
    expect(res.versions).toEqual([3]);
    res.drain();
    expect(res.versions).toEqual([3, 4]);
  });

  it("writes nothing on drain when nothing is pending", () => {
    const { res, client } = connect();
    res.accepting = false;
    client.offer(aggregate(1));
    res.drain();
    expect(res.versions).toEqual([1]);
    client.offer(aggregate(2));
    expect(res.versions).toEqual([1, 2]);
  });

  it("writes a heartbeat comment only while the socket is not backed up", () => {
    const { res, client } = connect();
    client.heartbeat();
    expect(res.chunks).toEqual([": keep-alive\n"]);
    res.accepting = false;
    client.offer(aggregate(1));
    client.heartbeat();
    expect(res.chunks).toEqual([": keep-alive\n", formatEvent(aggregate(1))]);
  });

  it("a heartbeat that fills the socket makes the next event wait for drain", () => {
    // write() returning false means "wait for drain", whatever was written: an event written
    // anyway queues in the socket's buffer beside the one kept for drain.
    const { res, client } = connect();
    res.accepting = false;
    client.heartbeat();
    client.offer(aggregate(1));
    client.offer(aggregate(2));
    expect(res.versions).toEqual([]);
    res.drain();
    expect(res.versions).toEqual([2]);
  });
});

describe("SseClient.offerInitial", () => {
  it("sends the current value at once to a new client", () => {
    const { res, client } = connect();
    client.offerInitial(aggregate(9));
    expect(res.versions).toEqual([9]);
  });

  it("skips the initial event when Last-Event-ID names the current value", () => {
    const { res, client } = connect(`${EPOCH}:9`);
    client.offerInitial(aggregate(9));
    client.offer(aggregate(10));
    expect(res.versions).toEqual([10]);
  });

  it("sends the current value to a client that is behind", () => {
    const { res, client } = connect(`${EPOCH}:4`);
    client.offerInitial(aggregate(9));
    expect(res.versions).toEqual([9]);
  });

  it("sends the current value after a reset: a Last-Event-ID of an older epoch, whatever its version", () => {
    const { res, client } = connect(`${EPOCH - 60_000}:500`);
    client.offerInitial(aggregate(3));
    client.offer(aggregate(4));
    expect(res.versions).toEqual([3, 4]);
  });

  it("sends nothing older than a Last-Event-ID further on in the same epoch (an API instance behind the one the client left)", () => {
    const { res, client } = connect(`${EPOCH}:500`);
    client.offerInitial(aggregate(3));
    client.offer(aggregate(500));
    client.offer(aggregate(501));
    expect(res.versions).toEqual([501]);
  });

  it("Last-Event-ID 0 gets the current value, even one without a version (the prototype's)", () => {
    const { res, client } = connect("0");
    client.offerInitial(aggregate(0, 100, 0));
    expect(res.ids).toEqual(["0:0"]);
  });

  it("an old numeric Last-Event-ID skips only epoch 0's aggregate of that version", () => {
    const same = connect("9");
    same.client.offerInitial(aggregate(9, 100, 0));
    same.client.offer(aggregate(10, 100, 0));
    expect(same.res.ids).toEqual(["0:10"]);
    // A reset since (before epochs, a lower version; after, a new epoch): the current value.
    const lower = connect("500");
    lower.client.offerInitial(aggregate(3, 100, 0));
    expect(lower.res.ids).toEqual(["0:3"]);
    const reset = connect("9");
    reset.client.offerInitial(aggregate(9));
    expect(reset.res.ids).toEqual([`${EPOCH}:9`]);
  });

  it("a malformed Last-Event-ID is no Last-Event-ID: the current value", () => {
    for (const header of ["", "abc", "-1", "1.5", "5:", ":5", "1:2:3", " 7", "9".repeat(400)]) {
      const { res, client } = connect(header);
      client.offerInitial(aggregate(7));
      expect(res.versions, header).toEqual([7]);
    }
  });
});

describe("SseClient ordering against the change feed", () => {
  it("never sends an older current value after a newer change that arrived first", () => {
    const { res, client } = connect();
    client.offer(aggregate(6));
    client.offerInitial(aggregate(5));
    expect(res.versions).toEqual([6]);
  });

  it("drops a lower version of the same epoch, and follows a higher epoch whatever its version (a reset)", () => {
    const { res, client } = connect();
    client.offer(aggregate(40));
    client.offer(aggregate(2));
    client.offer(aggregate(1, 100, EPOCH + 1));
    client.offer(aggregate(41));
    client.offer(aggregate(2, 100, EPOCH + 1));
    expect(res.ids).toEqual([`${EPOCH}:40`, `${EPOCH + 1}:1`, `${EPOCH + 1}:2`]);
  });
});

import type { Msg, MsgHdrsImpl, PublishOptions, Status, SubscriptionOptions } from "@nats-io/transport-node";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type AckTransport, JetStreamPublisher, type JetStreamPublisherOptions } from "../../src/nats/jetstream-publisher.js";
import { nextStep, type RetryPolicy } from "../../src/nats/publish-retry.js";
import { readAck } from "../../src/wire/publish-ack.js";
import type { OutgoingMessage } from "../../src/wire/reading-sink.js";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);
const ACK = (seq: number): string => `{"stream":"EC_STREAM", "seq":${seq}}`;
const DUPLICATE_ACK = '{"stream":"EC_STREAM", "seq":7,"duplicate": true}';
const errorAck = (code: number, errCode: number, description: string): string =>
  JSON.stringify({ error: { code, err_code: errCode, description }, stream: "EC_STREAM", seq: 0 });

describe("readAck", () => {
  it("reads a PubAck as stored, and one that says duplicate as stored before", () => {
    expect(readAck(bytes(ACK(42)), undefined)).toEqual({ kind: "stored", duplicate: false });
    expect(readAck(bytes('{"stream":"EC_STREAM","domain":"hub","seq":9}'), undefined)).toEqual({ kind: "stored", duplicate: false });
    expect(readAck(bytes(DUPLICATE_ACK), undefined)).toEqual({ kind: "stored", duplicate: true });
  });

  it("reads an error reply (which also ends in a digit) as rejected, with its code and description", () => {
    expect(readAck(bytes(errorAck(503, 10077, "insufficient resources")), undefined)).toEqual({
      kind: "rejected",
      code: 503,
      description: "insufficient resources (10077)",
    });
    expect(readAck(bytes(errorAck(400, 10054, "message size exceeds maximum allowed")), undefined)).toMatchObject({ kind: "rejected", code: 400 });
  });

  it("reads an empty 503 status as no responders, and other empty statuses as rejected", () => {
    expect(readAck(new Uint8Array(0), 503)).toEqual({ kind: "noResponders" });
    expect(readAck(new Uint8Array(0), 408)).toMatchObject({ kind: "rejected", code: 408 });
  });

  it("reads a reply that is not a PubAck as a server-side rejection", () => {
    expect(readAck(bytes("+OK"), undefined)).toMatchObject({ kind: "rejected", code: 500 });
    expect(readAck(bytes('{"seq":1}'), undefined)).toMatchObject({ kind: "rejected", code: 500 });
  });
});

describe("nextStep", () => {
  const policy: RetryPolicy = { maxAttempts: 4, giveUpAfterMs: 10_000, backoffMs: 100 };

  it("sends again at once after a timeout or a disconnect", () => {
    expect(nextStep("timeout", 0, 1, 0, 5_000, policy)).toEqual({ action: "send", atMs: 5_000 });
    expect(nextStep("disconnected", 0, 2, 0, 3_000, policy)).toEqual({ action: "send", atMs: 3_000 });
  });

  it("backs off longer with every attempt after no responders or a server-side error", () => {
    expect(nextStep("noResponders", 503, 1, 0, 1_000, policy)).toEqual({ action: "send", atMs: 1_100 });
    expect(nextStep("noResponders", 503, 3, 0, 1_000, policy)).toEqual({ action: "send", atMs: 1_300 });
    expect(nextStep("rejected", 503, 2, 0, 1_000, policy)).toEqual({ action: "send", atMs: 1_200 });
  });

  it("gives up at once on an error for the message itself (4xx)", () => {
    expect(nextStep("rejected", 400, 1, 0, 0, policy)).toEqual({ action: "fail" });
  });

  it("gives up after maxAttempts sends, or when the next send would be too late for the duplicate window", () => {
    expect(nextStep("timeout", 0, 4, 0, 1_000, policy)).toEqual({ action: "fail" });
    expect(nextStep("timeout", 0, 3, 0, 10_000, policy)).toEqual({ action: "fail" });
    expect(nextStep("noResponders", 503, 3, 0, 9_800, policy)).toEqual({ action: "fail" });
  });
});

interface Sent {
  readonly subject: string;
  readonly data: string;
  readonly reply: string;
  readonly headers: string | undefined;
}

/** Status events pushed by the test, read by the sink's `for await`. */
class StatusFeed implements AsyncIterable<Status> {
  private readonly queue: Status[] = [];
  private wake: (() => void) | undefined;
  private ended = false;

  push(status: Status): void {
    this.queue.push(status);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Status> {
    for (;;) {
      while (this.queue.length) yield this.queue.shift()!;
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

/** A NatsConnection as the sink sees it: records publishes, lets the test answer on the inbox. */
class FakeNats implements AckTransport {
  readonly sent: Sent[] = [];
  readonly statuses = new StatusFeed();
  inbox = "";
  refuse: Error | undefined;
  private callback: SubscriptionOptions["callback"];
  private closeSubscription: (() => void) | undefined;

  publish(subject: string, payload: Uint8Array, options: PublishOptions): void {
    if (this.refuse) throw this.refuse;
    // Copied now, as nats.js does: the sink reuses its option and header objects.
    this.sent.push({ subject, data: text(payload), reply: options.reply!, headers: options.headers && text((options.headers as MsgHdrsImpl).encode()) });
  }

  subscribe(subject: string, options: SubscriptionOptions): { unsubscribe(): void; readonly closed: Promise<void> } {
    this.inbox = subject;
    this.callback = options.callback;
    const closed = new Promise<void>((resolve) => (this.closeSubscription = resolve));
    return { unsubscribe: () => this.closeSubscription?.(), closed };
  }

  status(): AsyncIterable<Status> {
    return this.statuses;
  }

  /** Answers a publish on its reply subject. */
  answer(sent: Sent, data: string, code?: number): void {
    const msg = { subject: sent.reply, data: bytes(data), headers: code === undefined ? undefined : { code } };
    void this.callback!(null, msg as unknown as Msg);
  }

  closeConnection(): void {
    this.closeSubscription?.();
  }
}

const reading = (n: number, dedupId: string | undefined = `community1.meter${n}.1000`): OutgoingMessage => ({
  subject: `ec.community1.meter.meter${n}`,
  payload: `{"n":${n}}`,
  dedupId,
});

/** Records what `done` was called with. */
function recorder(): { done: (message: OutgoingMessage, err?: Error) => void; calls: Array<{ message: OutgoingMessage; error: string | undefined }> } {
  const calls: Array<{ message: OutgoingMessage; error: string | undefined }> = [];
  return { calls, done: (message, err) => calls.push({ message, error: err?.message }) };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("JetStreamPublisher", () => {
  let nats: FakeNats;
  const sink = (options: JetStreamPublisherOptions = {}): JetStreamPublisher => new JetStreamPublisher(nats, { ackTimeoutMs: 1_000, backoffMs: 100, ...options });

  beforeEach(() => {
    nats = new FakeNats();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("publishes each reading with a reply subject under one inbox and its Nats-Msg-Id header", () => {
    const s = sink();
    const { done } = recorder();
    s.publish(reading(1), done);
    s.publish({ ...reading(2), dedupId: undefined }, done);
    expect(nats.inbox).toMatch(/^_INBOX\.[A-Za-z0-9]+\.\*$/);
    const prefix = nats.inbox.slice(0, -1);
    expect(nats.sent).toEqual([
      { subject: "ec.community1.meter.meter1", data: '{"n":1}', reply: `${prefix}0`, headers: "NATS/1.0\r\nNats-Msg-Id: community1.meter1.1000\r\n\r\n" },
      { subject: "ec.community1.meter.meter2", data: '{"n":2}', reply: `${prefix}1`, headers: undefined },
    ]);
    s.close();
  });

  it("settles each reading once, when the ack for its own reply subject arrives, whatever the order", () => {
    const s = sink();
    const { done, calls } = recorder();
    for (const n of [1, 2, 3]) s.publish(reading(n), done);
    nats.answer(nats.sent[2]!, ACK(1));
    nats.answer(nats.sent[0]!, ACK(2));
    expect(calls.map((c) => c.message.subject)).toEqual(["ec.community1.meter.meter3", "ec.community1.meter.meter1"]);
    expect(s.inFlight).toBe(1);
    // A second ack for a settled reading changes nothing.
    nats.answer(nats.sent[0]!, DUPLICATE_ACK);
    nats.answer(nats.sent[1]!, ACK(3));
    expect(calls).toHaveLength(3);
    expect(calls.every((c) => c.error === undefined)).toBe(true);
    expect(s.report()).toMatchObject({ published: 3, acked: 3, duplicates: 0, retried: 0, failed: 0 });
    s.close();
  });

  it("sends a reading again with the same Nats-Msg-Id after the ack timeout, and counts a duplicate ack as stored", async () => {
    vi.useFakeTimers({ now: 0 });
    const s = sink();
    const { done, calls } = recorder();
    s.publish(reading(1), done);
    await vi.advanceTimersByTimeAsync(999);
    expect(nats.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(300);
    expect(nats.sent).toHaveLength(2);
    expect(nats.sent[1]).toEqual(nats.sent[0]);
    nats.answer(nats.sent[1]!, DUPLICATE_ACK);
    expect(calls).toEqual([{ message: reading(1), error: undefined }]);
    expect(s.report()).toMatchObject({ acked: 1, duplicates: 1, retried: 1, failed: 0, errors: { timeout: 1 } });
    s.close();
  });

  it("backs off after no responders and sends again until the stream answers", async () => {
    vi.useFakeTimers({ now: 0 });
    const s = sink();
    const { done, calls } = recorder();
    s.publish(reading(1), done);
    nats.answer(nats.sent[0]!, "", 503);
    await vi.advanceTimersByTimeAsync(50);
    expect(nats.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(300);
    expect(nats.sent).toHaveLength(2);
    nats.answer(nats.sent[1]!, "", 503);
    // The second wait is twice as long.
    await vi.advanceTimersByTimeAsync(150);
    expect(nats.sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(250);
    expect(nats.sent).toHaveLength(3);
    nats.answer(nats.sent[2]!, ACK(1));
    expect(calls).toEqual([{ message: reading(1), error: undefined }]);
    expect(s.report()).toMatchObject({ acked: 1, retried: 2, errors: { noResponders: 2 } });
    s.close();
  });

  it("fails a reading the stream rejects for itself (4xx) without sending it again", () => {
    const s = sink();
    const { done, calls } = recorder();
    s.publish(reading(1), done);
    nats.answer(nats.sent[0]!, errorAck(400, 10054, "message size exceeds maximum allowed"));
    expect(calls).toEqual([{ message: reading(1), error: "ec.community1.meter.meter1: message size exceeds maximum allowed (10054) (after 1 send)" }]);
    expect(nats.sent).toHaveLength(1);
    expect(s.report()).toMatchObject({ failed: 1, retried: 0, errors: { rejected: 1 }, lastError: "ec.community1.meter.meter1: message size exceeds maximum allowed (10054)" });
    s.close();
  });

  it("gives up after maxAttempts sends and reports the reading failed", async () => {
    vi.useFakeTimers({ now: 0 });
    const s = sink({ maxAttempts: 3 });
    const { done, calls } = recorder();
    s.publish(reading(1), done);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(nats.sent).toHaveLength(3);
    expect(calls).toEqual([{ message: reading(1), error: "ec.community1.meter.meter1: no ack within 1000 ms (after 3 sends)" }]);
    expect(s.report()).toMatchObject({ published: 1, acked: 0, retried: 2, failed: 1, errors: { timeout: 3 } });
    expect(s.inFlight).toBe(0);
  });

  it("gives up when the next send would come after giveUpAfterMs", async () => {
    vi.useFakeTimers({ now: 0 });
    const s = sink({ giveUpAfterMs: 2_500 });
    const { done, calls } = recorder();
    s.publish(reading(1), done);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(nats.sent).toHaveLength(3);
    expect(calls[0]!.error).toMatch(/after 3 sends/);
  });

  it("after a reconnect, sends again at once every reading still awaiting its ack", async () => {
    const s = sink({ ackTimeoutMs: 60_000 });
    const { done, calls } = recorder();
    for (const n of [1, 2, 3]) s.publish(reading(n), done);
    nats.answer(nats.sent[1]!, ACK(1));
    nats.statuses.push({ type: "disconnect", server: "127.0.0.1:4222" });
    nats.statuses.push({ type: "reconnect", server: "127.0.0.1:4222" });
    await flush();
    expect(nats.sent.slice(3).map((m) => m.subject)).toEqual(["ec.community1.meter.meter1", "ec.community1.meter.meter3"]);
    expect(nats.sent[3]).toEqual(nats.sent[0]);
    nats.answer(nats.sent[3]!, ACK(2));
    nats.answer(nats.sent[4]!, ACK(3));
    expect(calls).toHaveLength(3);
    expect(s.report()).toMatchObject({ acked: 3, retried: 2, errors: { disconnected: 2 } });
    s.close();
  });

  it("while disconnected lets nothing time out, and fails a reading only after giveUpAfterMs", async () => {
    vi.useFakeTimers({ now: 0 });
    const s = sink({ giveUpAfterMs: 5_000 });
    const { done, calls } = recorder();
    s.publish(reading(1), done);
    nats.statuses.push({ type: "disconnect", server: "127.0.0.1:4222" });
    await vi.advanceTimersByTimeAsync(4_900);
    expect(nats.sent).toHaveLength(1);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(300);
    expect(calls).toEqual([{ message: reading(1), error: "ec.community1.meter.meter1: disconnected for longer than 5000 ms (after 1 send)" }]);
    expect(s.report()).toMatchObject({ failed: 1, retried: 0, errors: { timeout: 0, disconnected: 1 } });
  });

  it("fails a reading the client refuses to send", () => {
    const s = sink();
    const { done, calls } = recorder();
    nats.refuse = new Error("'payload' max_payload size exceeded");
    s.publish(reading(1), done);
    expect(calls).toEqual([{ message: reading(1), error: "ec.community1.meter.meter1: 'payload' max_payload size exceeded" }]);
    expect(s.report()).toMatchObject({ failed: 1, errors: { rejected: 1 } });
    expect(s.inFlight).toBe(0);
  });

  it("fails a Nats-Msg-Id with a line break instead of sending a broken header", () => {
    const s = sink();
    const { done, calls } = recorder();
    s.publish(reading(1, "a\r\nNats-Expected-Stream: X"), done);
    expect(nats.sent).toEqual([]);
    expect(calls[0]!.error).toMatch(/line break/);
  });

  it("fails whatever is pending when the connection closes, and anything published after", async () => {
    const s = sink();
    const { done, calls } = recorder();
    s.publish(reading(1), done);
    s.publish(reading(2), done);
    nats.closeConnection();
    await flush();
    expect(calls.map((c) => c.error)).toEqual(["ec.community1.meter.meter1: the NATS connection closed", "ec.community1.meter.meter2: the NATS connection closed"]);
    s.publish(reading(3), done);
    expect(calls[2]!.error).toBe("ec.community1.meter.meter3: the sink is closed");
    expect(s.report()).toMatchObject({ published: 3, failed: 3, errors: { closed: 3 } });
  });

  it("keeps no timer once nothing is pending", async () => {
    vi.useFakeTimers({ now: 0 });
    const s = sink();
    const { done } = recorder();
    s.publish(reading(1), done);
    expect(vi.getTimerCount()).toBe(1);
    nats.answer(nats.sent[0]!, ACK(1));
    await vi.advanceTimersByTimeAsync(300);
    expect(vi.getTimerCount()).toBe(0);
    s.close();
  });
});

import {
  ClosedConnectionError,
  createInbox,
  DrainingConnectionError,
  type Msg,
  type PublishOptions,
  type Status,
  type SubscriptionOptions,
} from "@nats-io/transport-node";
import { DUPLICATE_WINDOW_MS } from "./topology.js";
import { errorMessage } from "../errors.js";
import { readAck } from "../wire/publish-ack.js";
import type { OutgoingMessage, ReadingSink, SinkDone } from "../wire/reading-sink.js";
import { EncodedHeaders, SlabEncoder } from "./encoded-message.js";
import { type PublishErrorKind, type RetryPolicy, nextStep } from "./publish-retry.js";

/**
 * A JetStream publisher for many small messages (issue 7). `js.publish` is one request per
 * message, and each request allocates an Error with a stack for its timeout: about 15k/s
 * here. This sends core publishes with a reply subject under ONE inbox subscription, matches
 * the PubAcks by hand, and times them out with one sweep timer instead of one per message.
 * A reading is sent again, with the same Nats-Msg-Id so that JetStream's duplicate window
 * drops a second copy, until it is acknowledged or out of attempts or time. nats.js discards
 * what it buffered while disconnected when it dials again, so while disconnected nothing times
 * out (only giveUpAfterMs counts), and after the reconnect every unacknowledged reading is sent
 * again at once.
 */


/** What the sink did so far (status as data: the command decides what to show). */
export interface PublishReport {
  /** Readings handed to the sink. */
  published: number;
  /** Readings acknowledged (stored, or already stored: see `duplicates`). */
  acked: number;
  /** Acks that said "duplicate": the stream held that Nats-Msg-Id already (a retry of a stored reading, a replay). */
  duplicates: number;
  /** Sends after the first one. */
  retried: number;
  /** Readings given up on. */
  failed: number;
  /** Unacknowledged sends by cause. */
  errors: Record<PublishErrorKind, number>;
  lastError?: string;
}

export interface JetStreamPublisherOptions {
  /** How long to wait for a PubAck before sending again. Default 5 s, as nats.js's js.publish. */
  readonly ackTimeoutMs?: number;
  /** Sends of one reading before it fails. Default 10. */
  readonly maxAttempts?: number;
  /**
   * Time after the first send when a reading fails instead of being sent again. Default 60 s,
   * half of EC_STREAM's duplicate window, so that a late retry is still de-duplicated.
   */
  readonly giveUpAfterMs?: number;
  /** Wait before sending again after "no responders" or an error ack, × the attempts so far. Default 200 ms. */
  readonly backoffMs?: number;
  /** The clock of timeouts and backoffs. Default Date.now. */
  readonly now?: () => number;
}

/** The part of a NatsConnection the sink uses (a fake in unit tests). */
export interface AckTransport {
  publish(subject: string, payload: Uint8Array, options: PublishOptions): void;
  subscribe(subject: string, options: SubscriptionOptions): { unsubscribe(): void; readonly closed: Promise<void | Error> };
  status(): AsyncIterable<Status>;
}

const INVALID_HEADER_VALUE = /[\r\n]/;

/** The number after the inbox prefix, read without slicing the subject; -1 when there is none. */
function tokenOf(subject: string, from: number): number {
  if (subject.length <= from) return -1;
  let token = 0;
  for (let i = from; i < subject.length; i += 1) {
    const digit = subject.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    token = token * 10 + digit;
  }
  return token;
}

const SENT = 0;
const WAITING = 1;

/** A reading awaiting its ack (SENT, due = ack deadline) or its next send (WAITING, due = send time). */
interface Pending {
  readonly message: OutgoingMessage;
  readonly done: SinkDone;
  readonly firstSentMs: number;
  attempts: number;
  state: typeof SENT | typeof WAITING;
  dueMs: number;
}

/** Publishes readings to JetStream: one core publish per reading, acks matched by reply token. */
export class JetStreamPublisher implements ReadingSink {
  private readonly counts: PublishReport = {
    published: 0,
    acked: 0,
    duplicates: 0,
    retried: 0,
    failed: 0,
    errors: { timeout: 0, disconnected: 0, noResponders: 0, rejected: 0, closed: 0 },
  };
  private readonly policy: RetryPolicy;
  private readonly ackTimeoutMs: number;
  private readonly now: () => number;
  private readonly inbox: string;
  private readonly pending = new Map<number, Pending>();
  private readonly subscription: ReturnType<AckTransport["subscribe"]>;
  private readonly encoder = new SlabEncoder();
  // nats.js reads these synchronously inside publish(): one of each serves every send.
  private readonly msgId = new EncodedHeaders();
  private readonly withId: PublishOptions = { reply: "", headers: this.msgId };
  private readonly withoutId: PublishOptions = { reply: "" };
  private nextToken = 0;
  private sweeper: NodeJS.Timeout | undefined;
  private connected = true;
  private closed = false;

  constructor(
    private readonly nc: AckTransport,
    options: JetStreamPublisherOptions = {},
  ) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? 5_000;
    this.policy = { maxAttempts: options.maxAttempts ?? 10, giveUpAfterMs: options.giveUpAfterMs ?? DUPLICATE_WINDOW_MS / 2, backoffMs: options.backoffMs ?? 200 };
    this.now = options.now ?? Date.now;
    this.inbox = `${createInbox()}.`;
    // The client subscribes it again after a reconnect; it ends when the connection closes.
    this.subscription = nc.subscribe(`${this.inbox}*`, { callback: (err, msg) => (err ? this.failAll(err) : this.onReply(msg)) });
    void this.subscription.closed.then(() => this.failAll(new Error("the NATS connection closed")));
    void this.resendOnReconnect(nc.status());
  }

  /** Readings awaiting an ack or a retry. */
  get inFlight(): number {
    return this.pending.size;
  }

  report(): PublishReport {
    return { ...this.counts, errors: { ...this.counts.errors } };
  }

  publish<M extends OutgoingMessage>(message: M, done: SinkDone<M>): void {
    this.counts.published += 1;
    if (this.closed) return this.fail(message, done, "closed", "the sink is closed");
    const token = this.nextToken++;
    const now = this.now();
    // Called back with the message it was given, so the widening is safe.
    const entry: Pending = { message, done: done as SinkDone, firstSentMs: now, attempts: 0, state: SENT, dueMs: 0 };
    this.pending.set(token, entry);
    this.send(token, entry, now);
    this.sweeper ??= setInterval(() => this.sweep(), Math.max(10, Math.min(250, this.ackTimeoutMs / 4)));
  }

  /** Stops listening for acks; whatever is still pending fails. */
  close(): void {
    this.failAll(new Error("the sink is closed"));
    this.subscription.unsubscribe();
  }

  private send(token: number, entry: Pending, now: number): void {
    entry.attempts += 1;
    entry.state = SENT;
    entry.dueMs = now + this.ackTimeoutMs;
    // Read once per send: a message may write its payload and id only when asked (sources.ts).
    const { subject, payload, dedupId } = entry.message;
    try {
      if (dedupId !== undefined && INVALID_HEADER_VALUE.test(dedupId)) throw new Error("a Nats-Msg-Id cannot hold a line break");
      this.encoder.encode(dedupId, payload);
      const options = dedupId === undefined ? this.withoutId : this.withId;
      options.reply = `${this.inbox}${token}`;
      this.msgId.bytes = this.encoder.headers;
      this.nc.publish(subject, this.encoder.payload, options);
    } catch (err) {
      // A closed or draining connection, or a message the client refuses (too large): final.
      this.pending.delete(token);
      const closed = err instanceof ClosedConnectionError || err instanceof DrainingConnectionError;
      this.fail(entry.message, entry.done, closed ? "closed" : "rejected", errorMessage(err));
    }
  }

  /** Sends made before a reconnect were discarded by the client, or their acks went to the old connection. */
  private async resendOnReconnect(status: AsyncIterable<Status>): Promise<void> {
    for await (const event of status) {
      if (event.type === "disconnect") this.connected = false;
      if (event.type !== "reconnect" || this.closed) continue;
      this.connected = true;
      const now = this.now();
      for (const [token, entry] of this.pending) {
        if (entry.state === SENT) this.retryOrFail(token, entry, "disconnected", 0, "sent before the connection was lost");
        else entry.dueMs = Math.min(entry.dueMs, now);
      }
    }
  }

  private onReply(msg: Msg): void {
    const token = tokenOf(msg.subject, this.inbox.length);
    const entry = this.pending.get(token);
    // Gone already: the ack of an earlier send of a reading that a later one settled.
    if (!entry) return;
    const outcome = readAck(msg.data, msg.headers?.code);
    if (outcome.kind === "stored") {
      this.pending.delete(token);
      this.counts.acked += 1;
      if (outcome.duplicate) this.counts.duplicates += 1;
      entry.done(entry.message);
      return;
    }
    // The reply to a send that timed out and waits to go again: the next send decides.
    if (entry.state === WAITING) return;
    if (outcome.kind === "rejected") this.retryOrFail(token, entry, "rejected", outcome.code, outcome.description);
    else this.retryOrFail(token, entry, "noResponders", 503, "no responders: no stream listens on this subject (yet)");
  }

  private retryOrFail(token: number, entry: Pending, kind: Exclude<PublishErrorKind, "closed">, code: number, why: string): void {
    this.counts.errors[kind] += 1;
    this.counts.lastError = `${entry.message.subject}: ${why}`;
    const now = this.now();
    const step = nextStep(kind, code, entry.attempts, entry.firstSentMs, now, this.policy);
    if (step.action === "fail") return this.giveUp(token, entry);
    entry.state = WAITING;
    entry.dueMs = step.atMs;
    if (step.atMs <= now) this.resend(token, entry, now);
  }

  /** A send while disconnected would be dropped: a reading waits for the reconnect, but not beyond giveUpAfterMs. */
  private awaitReconnect(token: number, entry: Pending, now: number): void {
    if (now - entry.firstSentMs < this.policy.giveUpAfterMs) return;
    this.counts.errors.disconnected += 1;
    this.counts.lastError = `${entry.message.subject}: disconnected for longer than ${this.policy.giveUpAfterMs} ms`;
    this.giveUp(token, entry);
  }

  private giveUp(token: number, entry: Pending): void {
    this.pending.delete(token);
    this.counts.failed += 1;
    entry.done(entry.message, new Error(`${this.counts.lastError} (after ${entry.attempts} ${entry.attempts === 1 ? "send" : "sends"})`));
  }

  private resend(token: number, entry: Pending, now: number): void {
    this.counts.retried += 1;
    this.send(token, entry, now);
  }

  /** Timeouts and due retries, a few times per ack timeout: one timer for all pending readings. */
  private sweep(): void {
    const now = this.now();
    for (const [token, entry] of this.pending) {
      if (!this.connected) this.awaitReconnect(token, entry, now);
      else if (entry.dueMs <= now && entry.state === SENT) this.retryOrFail(token, entry, "timeout", 0, `no ack within ${this.ackTimeoutMs} ms`);
      else if (entry.dueMs <= now) this.resend(token, entry, now);
    }
    if (this.pending.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /** Gives up on a message without a retry. */
  private fail<M extends OutgoingMessage>(message: M, done: SinkDone<M>, kind: PublishErrorKind, why: string): void {
    this.counts.errors[kind] += 1;
    this.counts.failed += 1;
    this.counts.lastError = `${message.subject}: ${why}`;
    done(message, new Error(this.counts.lastError));
  }

  private failAll(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) this.fail(entry.message, entry.done, "closed", err.message);
  }
}

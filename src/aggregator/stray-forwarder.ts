import type { ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import type { Bus } from "../nats/bus.js";
import { PARTITIONS, STRAYS_CONSUMER, STREAM, partitionedSubject } from "../wire/names.js";
import { deadLetterOf, publishDeadLetter } from "./dead-letter.js";
import { NOT_A_READING_SUBJECT } from "../wire/decode-reading.js";
import type { Lease } from "./lease.js";
import type { AggregatorOptions, AggregatorStats } from "./partition-worker.js";

const RETRY_DELAY_MS = 1_000;

/**
 * Moves readings that EC_STREAM holds as published (`ec.<c>.…`: the prototype's backlog, or
 * a nats-server without ecwatch's `mappings`) into their partition's stream (`ecp.<p>.<c>.…`),
 * where the partition's owner aggregates them; acknowledged once stored there. The stream sequence
 * is the forwarded copy's message id, so a redelivered stray is stored once (within the
 * duplicate window; a copy beyond it changes nothing, the aggregator being idempotent).
 * Publishing to `ecp.…` is not mapped again, so this works with or without the mapping.
 */
export class StrayForwarder {
  private messages: ConsumerMessages | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private warned = false;

  private constructor(
    private readonly bus: Bus,
    private readonly lease: Lease,
    private readonly stats: AggregatorStats,
    private readonly options: AggregatorOptions,
  ) {}

  static async start(bus: Bus, lease: Lease, stats: AggregatorStats, options: AggregatorOptions): Promise<StrayForwarder> {
    const forwarder = new StrayForwarder(bus, lease, stats, options);
    try {
      const consumer = await bus.js.consumers.get(STREAM, STRAYS_CONSUMER);
      forwarder.messages = await consumer.consume({ max_messages: options.maxMessages ?? 1_000, callback: (msg) => forwarder.receive(msg) });
    } catch (err) {
      await lease.release();
      throw err;
    }
    return forwarder;
  }

  private receive(msg: JsMsg): void {
    const done = this.forward(msg).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  private async forward(msg: JsMsg): Promise<void> {
    const target = partitionedSubject(msg.subject, PARTITIONS);
    const stored = target
      ? await this.bus.js.publish(target, msg.data, { msgID: `fwd.${msg.seq}` }).then(
          () => true,
          () => false,
        )
      : await publishDeadLetter(this.bus.js, msg, deadLetterOf(msg, NOT_A_READING_SUBJECT));
    if (!stored) return msg.nak(RETRY_DELAY_MS);
    msg.ack();
    if (target) this.stats.forwarded += 1;
    else this.stats.deadLetters += 1;
    if (target && !this.warned) {
      this.warned = true;
      this.options.onError?.(
        new Error(
          "EC_STREAM holds readings as published (the prototype's backlog, or nats-server without ecwatch's `mappings`): moving them into their partitions, which stores each twice — add the mappings to nats-server's config (README, \"Running on a NATS cluster\").",
        ),
      );
    }
  }

  /** Stops consuming, waits for the forwards under way, and gives up the lease. */
  async stop(): Promise<void> {
    this.messages?.stop();
    await this.messages?.closed();
    await Promise.all(this.inFlight);
    await this.lease.release();
  }
}

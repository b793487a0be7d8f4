import { NOT_A_READING_SUBJECT } from "../wire/decode-reading.js";
import { PARTITIONS, partitionedSubject } from "../wire/names.js";
import { countDeadLetter, deadLetterOf } from "./dead-letter.js";
import type { AggregatorOptions, AggregatorStats } from "./options.js";
import type { PartitionLease } from "./partition-worker.js";
import type { AggregatorPorts, Consumption, ReadingMessage } from "./ports.js";

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
  private consumption: Consumption | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private warned = false;

  private constructor(
    private readonly ports: AggregatorPorts,
    private readonly lease: PartitionLease,
    private readonly stats: AggregatorStats,
    private readonly options: AggregatorOptions,
  ) {}

  static async start(ports: AggregatorPorts, lease: PartitionLease, stats: AggregatorStats, options: AggregatorOptions): Promise<StrayForwarder> {
    const forwarder = new StrayForwarder(ports, lease, stats, options);
    try {
      forwarder.consumption = await ports.readings.consumeStrays({ maxMessages: options.maxMessages ?? 1_000 }, (msg) => forwarder.receive(msg));
    } catch (err) {
      await lease.release();
      throw err;
    }
    return forwarder;
  }

  private receive(msg: ReadingMessage): void {
    const done = this.forward(msg).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  private async forward(msg: ReadingMessage): Promise<void> {
    const target = partitionedSubject(msg.subject, PARTITIONS);
    if (!target) return this.keepAsDeadLetter(msg);
    const stored = await this.ports.readings.forward(target, msg.data, `fwd.${msg.seq}`).then(
      () => true,
      () => false,
    );
    if (!stored) return msg.nak(this.options.retryDelayMs ?? RETRY_DELAY_MS);
    msg.ack();
    this.stats.forwarded += 1;
    if (!this.warned) {
      this.warned = true;
      this.options.onError?.(
        new Error(
          "EC_STREAM holds readings as published (the prototype's backlog, or nats-server without ecwatch's `mappings`): moving them into their partitions, which stores each twice — add the mappings to nats-server's config (docs/operating.md, \"Running on a NATS cluster\").",
        ),
      );
    }
  }

  /**
   * Anything else under `ec.` that is not a reading subject (e.g. an MQTT topic with a level too
   * many, which nats-server acknowledged to its device): kept in the dead letters with the reason
   * and its subject, acknowledged once stored there (issue 18).
   */
  private async keepAsDeadLetter(msg: ReadingMessage): Promise<void> {
    const deadLetter = deadLetterOf(msg, NOT_A_READING_SUBJECT);
    if (!(await this.ports.deadLetters.store(msg, deadLetter))) return msg.nak(this.options.retryDelayMs ?? RETRY_DELAY_MS);
    msg.ack();
    countDeadLetter(this.stats, deadLetter);
  }

  /** Stops consuming, waits for the forwards under way, and gives up the lease. */
  async stop(): Promise<void> {
    await this.consumption?.stop();
    await Promise.all(this.inFlight);
    await this.lease.release();
  }

  /** The lease was lost: forwarding keeps no state of its own, so stopping is all (a forward repeated by the next owner is a duplicate). */
  abandon(): Promise<void> {
    return this.stop();
  }
}

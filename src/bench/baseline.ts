import { AckPolicy, type JetStreamManager, jetstream, StorageType } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { PublishWindow } from "../sim/reading-sink.js";
import { LatencyHistogram, type LatencySummary } from "./latency.js";
import type { OpenRunSink } from "./run-sink.js";

export const BASELINE_STREAM = "BENCH_RAW";
const SUBJECT = "bench.raw";
/** How long the latency phase publishes at the pipeline's rate. */
const LATENCY_PHASE_MS = 3_000;
/** The latency phase publishes in steps of this many ms. */
const STEP_MS = 10;

export interface BaselineReport {
  readonly readings: number;
  /** As fast as acknowledged: from the first publish until the consumer had the last message. */
  readonly readingsPerSec: number;
  /** Publish → consume at the rate the pipeline is measured at (not under saturation, where it only measures the queue). */
  readonly latencyMs: LatencySummary;
  readonly latencyAtRate: number;
}

/**
 * The fastest raw JetStream path here, without aggregation: the simulator's publisher (core
 * publishes, acks matched by hand, a bounded window) into a stream like EC_STREAM (file
 * storage), and a pull consumer that acknowledges each batch once (AckPolicy.All). Messages
 * are shaped like meter readings. First `readings` as fast as acknowledged (throughput), then
 * 3 s at `rate` readings/s, each message carrying its publish time (latency).
 */
export async function runBaseline(nc: NatsConnection, jsm: JetStreamManager, openSink: OpenRunSink, readings: number, rate: number): Promise<BaselineReport> {
  await jsm.streams.delete(BASELINE_STREAM).catch(() => undefined);
  await jsm.streams.add({ name: BASELINE_STREAM, subjects: [SUBJECT], storage: StorageType.File, duplicate_window: 120_000_000_000 });
  await jsm.consumers.add(BASELINE_STREAM, { durable_name: "bench", ack_policy: AckPolicy.All, max_ack_pending: 20_000 });
  const sink = openSink();
  const window = new PublishWindow(1_024);
  const release = (): void => window.release();
  let sent = 0;
  const publish = async (withTime: boolean): Promise<void> => {
    if (!window.tryAcquire()) await window.acquire();
    const i = sent++;
    const time = withTime ? `,"t":${Date.now()}` : "";
    const payload = `{"meterId":"m${i % 1000}","communityId":"community${i % 10}","genW":${i % 5000},"conW":1234,"measuredAt":"2026-06-21T12:00:00.000Z","seq":${i}${time}}`;
    sink.publish({ subject: SUBJECT, payload, dedupId: `raw.${i}` }, release);
  };
  const latencyReadings = Math.max(1, Math.round((rate * LATENCY_PHASE_MS) / 1000));
  const consumer = await consume(nc, readings, readings + latencyReadings);
  try {
    const started = performance.now();
    for (let n = 0; n < readings; n += 1) await publish(false);
    await consumer.throughputDone;
    const seconds = (performance.now() - started) / 1000;

    const phaseStart = performance.now();
    for (let step = 0; sent < readings + latencyReadings; step += 1) {
      const due = Math.min(readings + latencyReadings, readings + Math.round(((step + 1) * STEP_MS * rate) / 1000));
      while (sent < due) await publish(true);
      const wait = phaseStart + (step + 1) * STEP_MS - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    await window.drained();
    await consumer.allDone;
    return { readings, readingsPerSec: Math.round(readings / seconds), latencyMs: consumer.latency.summary(), latencyAtRate: rate };
  } finally {
    sink.close();
    consumer.stop();
    await jsm.streams.delete(BASELINE_STREAM).catch(() => undefined);
  }
}

/** The pull consumer of the baseline: resolves when `first` and when `total` messages have arrived (or fails after 60 s without progress). */
async function consume(nc: NatsConnection, first: number, total: number) {
  const latency = new LatencyHistogram();
  const messages = await (await jetstream(nc).consumers.get(BASELINE_STREAM, "bench")).consume({ max_messages: 1_000 });
  let consumed = 0;
  let reachedFirst!: () => void;
  const throughputDone = new Promise<void>((resolve) => (reachedFirst = resolve));
  const consuming = (async () => {
    for await (const msg of messages) {
      consumed += 1;
      const sentAt = /"t":(\d+)/.exec(msg.string())?.[1];
      if (sentAt !== undefined) latency.record(Date.now() - Number(sentAt));
      // One ack per batch: AckPolicy.All acknowledges every earlier message too.
      if (msg.info.pending === 0 || consumed % 500 === 0 || consumed === total) msg.ack();
      if (consumed === first) reachedFirst();
      if (consumed >= total) break;
    }
  })();
  let progress = 0;
  const stall = setInterval(() => {
    if (consumed === progress && consumed < total) messages.stop();
    progress = consumed;
  }, 60_000);
  const ended = consuming.finally(() => clearInterval(stall));
  const check = async (): Promise<void> => {
    if (consumed < total) throw new Error(`the baseline consumer got ${consumed} of ${total} messages and then nothing for 60 s`);
  };
  return {
    latency,
    throughputDone: Promise.race([throughputDone, ended.then(() => (consumed < first ? check() : undefined))]),
    allDone: ended.then(check),
    stop: () => messages.stop(),
  };
}

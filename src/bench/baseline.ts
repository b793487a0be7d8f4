import { AckPolicy, type JetStreamManager, jetstream, StorageType } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { PublishWindow } from "../sim/reading-sink.js";
import { JetStreamSink } from "../sim/jetstream-sink.js";
import { LatencyHistogram, type LatencySummary } from "./latency.js";

export const BASELINE_STREAM = "BENCH_RAW";
const SUBJECT = "bench.raw";
/** One message in this many carries its publish time for the latency histogram. */
const SAMPLE_EVERY = 50;

export interface BaselineReport {
  readonly readings: number;
  /** From the first publish until the consumer had the last message. */
  readonly readingsPerSec: number;
  /** Publish → consume, sampled. */
  readonly latencyMs: LatencySummary;
}

/**
 * The fastest raw JetStream path here, without aggregation: the simulator's publisher (core
 * publishes, acks matched by hand, a bounded window) into a stream like EC_STREAM (file
 * storage), and a pull consumer that acknowledges each batch once (AckPolicy.All). Messages
 * are shaped like meter readings, of the same size.
 */
export async function runBaseline(nc: NatsConnection, jsm: JetStreamManager, readings: number): Promise<BaselineReport> {
  await jsm.streams.delete(BASELINE_STREAM).catch(() => undefined);
  await jsm.streams.add({ name: BASELINE_STREAM, subjects: [SUBJECT], storage: StorageType.File, duplicate_window: 120_000_000_000 });
  await jsm.consumers.add(BASELINE_STREAM, { durable_name: "bench", ack_policy: AckPolicy.All, max_ack_pending: 20_000 });
  try {
    const latency = new LatencyHistogram();
    const consumer = await jetstream(nc).consumers.get(BASELINE_STREAM, "bench");
    let consumed = 0;
    let finish!: () => void;
    const allConsumed = new Promise<void>((resolve) => (finish = resolve));
    const messages = await consumer.consume({ max_messages: 1_000 });
    const consuming = (async () => {
      for await (const msg of messages) {
        consumed += 1;
        if (msg.seq % SAMPLE_EVERY === 0) latency.record(Date.now() - Number(/"t":(\d+)/.exec(msg.string())?.[1]));
        // One ack per batch: AckPolicy.All acknowledges every earlier message too.
        if (msg.info.pending === 0 || consumed % 500 === 0 || consumed === readings) msg.ack();
        if (consumed >= readings) {
          finish();
          break;
        }
      }
    })();

    const sink = new JetStreamSink(nc);
    const window = new PublishWindow(1_024);
    const release = (): void => window.release();
    const started = performance.now();
    for (let i = 0; i < readings; i += 1) {
      if (!window.tryAcquire()) await window.acquire();
      const payload = `{"meterId":"m${i % 1000}","communityId":"community${i % 10}","genW":${i % 5000},"conW":1234,"measuredAt":"2026-06-21T12:00:00.000Z","seq":${i},"t":${Date.now()}}`;
      sink.publish({ subject: SUBJECT, payload, dedupId: `raw.${i}` }, release);
    }
    await window.drained();
    sink.close();
    const timeout = setTimeout(() => messages.stop(), 60_000);
    await Promise.race([allConsumed, consuming]);
    clearTimeout(timeout);
    if (consumed < readings) throw new Error(`the baseline consumer got ${consumed} of ${readings} messages within 60 s`);
    const seconds = (performance.now() - started) / 1000;
    await consuming;
    return { readings, readingsPerSec: Math.round(readings / seconds), latencyMs: latency.summary() };
  } finally {
    await jsm.streams.delete(BASELINE_STREAM).catch(() => undefined);
  }
}

import type { SinkDone } from "../wire/reading-sink.js";
import type { Emission } from "../sim/sources.js";
import { LatencyHistogram } from "./latency.js";
import type { RunSink } from "./run-sink.js";

/** Data times remembered per community at most (readings in flight are far fewer). */
const MAX_REMEMBERED = 10_000;

/**
 * The run's sink with a stopwatch (issue 20): it times each reading's first hop (publish →
 * stored, i.e. JetStream's acknowledgement), remembers when each community's readings of a
 * data time were stored, so that an aggregate can be timed from its newest reading's storing
 * to its announcement, and counts the readings published in each stage of the load shape.
 */
export class TimedSink implements RunSink {
  readonly stored = new LatencyHistogram();
  readonly publishedPerStage: number[];
  /** Per community: data time (measuredAt, ms) → wall-clock time its last reading was stored. */
  private readonly storedAt = new Map<string, Map<number, number>>();

  constructor(
    private readonly inner: RunSink,
    stages: number,
    private readonly stageNow: () => number,
    private readonly now: () => number = Date.now,
  ) {
    this.publishedPerStage = Array.from({ length: stages }, () => 0);
  }

  publish<M extends Emission>(message: M, done: SinkDone<M>): void {
    const publishedAt = this.now();
    this.publishedPerStage[this.stageNow()]! += 1;
    this.inner.publish(message, (sent, err) => {
      if (!err) {
        const at = this.now();
        this.stored.record(at - publishedAt);
        const counted = sent.counted;
        if (counted) {
          let community = this.storedAt.get(counted.communityId);
          if (!community) this.storedAt.set(counted.communityId, (community = new Map()));
          community.set(counted.state.measuredAtMs, at);
          // A community no SSE client follows is never taken from: keep its newest only.
          if (community.size > MAX_REMEMBERED) community.delete(community.keys().next().value!);
        }
      }
      done(sent, err);
    });
  }

  /**
   * When the community's reading of `measuredAtMs` was stored; forgets that and every earlier
   * data time of the community (the aggregates of a community only go forward), so the memory
   * stays that of the readings in flight.
   */
  takeStoredAt(communityId: string, measuredAtMs: number): number | undefined {
    const community = this.storedAt.get(communityId);
    if (!community) return undefined;
    const at = community.get(measuredAtMs);
    // A Map iterates in insertion order, which is (nearly) data-time order.
    for (const [dataMs] of community) {
      if (dataMs > measuredAtMs) break;
      community.delete(dataMs);
    }
    return at;
  }

  close(): void {
    this.inner.close();
  }
}

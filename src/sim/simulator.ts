import { communityReadingSubject, dedupId, meterReadingSubject } from "../bus/names.js";
import { COMMUNITY_METER_ID } from "../domain/ids.js";
import type { CommunityReading, MeterReading } from "../domain/reading.js";
import { CommunityModel, communityIdOf, describeCommunity } from "./community-model.js";
import { GroundTruth, type TruthTotals } from "./ground-truth.js";
import type { LoadProfile } from "./load-profile.js";
import { PublishWindow, type ReadingSink } from "./reading-sink.js";

export const READING_LEVELS = ["meter", "community"] as const;
export type ReadingLevel = (typeof READING_LEVELS)[number];

export interface SimulatorOptions {
  readonly communities: number;
  /** Meters per community. */
  readonly meters: number;
  readonly intervalMs: number;
  /** Stop after this much time; run until stop() when undefined. */
  readonly durationMs?: number;
  readonly seed: number;
  /** `meter` readings, or the prototype's community-level `ec.<id>.net` readings. */
  readonly level: ReadingLevel;
  readonly profile: LoadProfile;
  /** Stale rule of the ground truth; the aggregator's default is 30 s. */
  readonly staleAfterMs: number;
  /** Publishes awaiting acknowledgement at once. Default 1,024. */
  readonly window?: number;
  readonly now?: () => number;
}

export interface SimulatorStats {
  published: number;
  errors: number;
  ticks: number;
  /** Ticks skipped because the previous one was still being published. */
  skippedTicks: number;
  lastError?: string;
}

export interface SimulatorReport {
  readonly published: number;
  readonly errors: number;
  readonly communities: Record<string, TruthTotals>;
}

/**
 * Publishes every meter of every community once per interval, at interval boundaries of
 * data time. `seq` is the data time in ms, so it keeps increasing across restarts.
 */
export class Simulator {
  readonly stats: SimulatorStats = { published: 0, errors: 0, ticks: 0, skippedTicks: 0 };
  private readonly truth = new GroundTruth();
  private readonly models: CommunityModel[];
  private readonly window: PublishWindow;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private endAtMs = Number.POSITIVE_INFINITY;
  private readonly finished: Promise<void>;
  private finish!: () => void;
  private ticking: Promise<void> = Promise.resolve();

  constructor(
    private readonly sink: ReadingSink,
    private readonly options: SimulatorOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.window = new PublishWindow(options.window ?? 1_024);
    this.finished = new Promise((resolve) => {
      this.finish = resolve;
    });
    this.models = Array.from({ length: options.communities }, (_, index) => {
      const spec = describeCommunity(communityIdOf(index), options.meters, options.seed);
      return new CommunityModel(spec, options.profile, options.seed);
    });
  }

  /** Starts ticking; the returned promise settles when the run has ended and every publish settled. */
  start(): Promise<void> {
    if (this.options.durationMs !== undefined) this.endAtMs = this.now() + this.options.durationMs;
    this.tick(this.alignedNow());
    return this.finished;
  }

  async stop(): Promise<void> {
    if (this.stopped) return this.finished;
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    await this.window.drained();
    this.finish();
    return this.finished;
  }

  report(): SimulatorReport {
    return {
      published: this.stats.published,
      errors: this.stats.errors,
      communities: this.truth.totals(this.options.staleAfterMs),
    };
  }

  private alignedNow(): number {
    return Math.floor(this.now() / this.options.intervalMs) * this.options.intervalMs;
  }

  private tick(dataTimeMs: number): void {
    if (this.stopped) return;
    if (dataTimeMs >= this.endAtMs) {
      void this.stop();
      return;
    }
    this.stats.ticks += 1;
    this.ticking = this.publishTick(dataTimeMs).then(() => {
      if (this.stopped) return;
      const next = dataTimeMs + this.options.intervalMs;
      const aligned = this.alignedNow();
      const nextTick = Math.max(next, aligned);
      this.stats.skippedTicks += (nextTick - next) / this.options.intervalMs;
      this.timer = setTimeout(() => this.tick(nextTick), Math.max(0, nextTick - this.now()));
    });
  }

  private async publishTick(dataTimeMs: number): Promise<void> {
    const date = new Date(dataTimeMs);
    const measuredAt = date.toISOString();
    for (const model of this.models) {
      const communityId = model.spec.communityId;
      const powers = model.powerAt(date);
      if (this.options.level === "community") {
        const reading: CommunityReading = {
          communityId,
          genW: powers.reduce((sum, p) => sum + p.genW, 0),
          conW: powers.reduce((sum, p) => sum + p.conW, 0),
          measuredAt,
        };
        // The aggregator orders community-level readings by measuredAt (then stream order); seq is for the truth.
        await this.send(communityReadingSubject(communityId), reading, communityId, COMMUNITY_METER_ID, dataTimeMs);
        continue;
      }
      for (const power of powers) {
        const reading: MeterReading = { ...power, communityId, measuredAt, seq: dataTimeMs };
        await this.send(meterReadingSubject(communityId, power.meterId), reading, communityId, power.meterId, dataTimeMs);
      }
    }
  }

  private async send(subject: string, reading: CommunityReading | MeterReading, communityId: string, meterId: string, seq: number): Promise<void> {
    await this.window.acquire();
    this.sink
      .publish(subject, JSON.stringify(reading), dedupId(communityId, meterId, seq))
      .then(
        () => {
          this.stats.published += 1;
          this.truth.record(communityId, meterId, { genW: reading.genW, conW: reading.conW, measuredAtMs: seq, seq });
        },
        (err: unknown) => {
          this.stats.errors += 1;
          this.stats.lastError = err instanceof Error ? err.message : String(err);
        },
      )
      .finally(() => this.window.release());
  }
}

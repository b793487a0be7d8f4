import { GroundTruth, type TruthTotals } from "./ground-truth.js";
import { PublishWindow } from "./reading-sink.js";
import { type ReadingSink } from "../wire/reading-sink.js";
import type { Emission, ReadingSource } from "./sources.js";
import type { TraceEntry } from "./trace.js";

/** setTimeout turns a longer delay into 1 ms: long waits (slow --speed) go in chunks. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface SimulatorOptions {
  /** Data time per wall-clock time: 1 = real time, 60 = a minute a second, Infinity = as fast as acks allow. */
  readonly speed: number;
  /** The ground truth's floor of a meter's tolerance (energy/validity.ts): the aggregator's `--stale-after`, 30 s by default. */
  readonly staleAfterMs: number;
  /** Publishes awaiting acknowledgement at once. Default 1,024. */
  readonly window?: number;
  /**
   * When data time `dataElapsedMs` after the first tick is due, in wall-clock ms after the start;
   * default `dataElapsedMs / speed`. `ecwatch bench` ramps its load with it (issue 20).
   */
  readonly pace?: (dataElapsedMs: number) => number;
  /** Called with every message as it is published (`--record`). */
  readonly record?: (entry: TraceEntry) => void;
  readonly now?: () => number;
}

export interface SimulatorStats {
  sent: number;
  acked: number;
  errors: number;
  /** Moments of data time sent (a moment that comes in parts counts once). */
  ticks: number;
  /** Data time of the latest tick. */
  dataTimeMs: number | undefined;
  lastError?: string;
}

/**
 * Publishes a source's ticks on schedule: tick k of data time t goes out at
 * wallStart + (t − t0) / speed. A tick that is late goes out at once (no tick is ever
 * skipped, so the same seed gives the same readings), and the ground truth records every
 * acknowledged reading by the rules the aggregator follows.
 */
export class Simulator {
  readonly stats: SimulatorStats = { sent: 0, acked: 0, errors: 0, ticks: 0, dataTimeMs: undefined };
  readonly truth: GroundTruth;
  /** The wall-clock time (ms) and the data time of the first tick, once it is sent: where `pace` counts from. */
  origin: { readonly wallMs: number; readonly dataMs: number } | undefined;
  private readonly window: PublishWindow;
  private readonly now: () => number;
  private stopped = false;
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly sink: ReadingSink,
    private readonly source: ReadingSource,
    private readonly options: SimulatorOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.truth = new GroundTruth(options.staleAfterMs);
    this.window = new PublishWindow(options.window ?? 1_024);
  }

  /** Runs until the source is exhausted or stop(); settles once every publish has settled. */
  start(): Promise<void> {
    this.running ??= this.run();
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  totals(): Record<string, TruthTotals> {
    return this.truth.totals();
  }

  private async run(): Promise<void> {
    const wallStart = this.now();
    let firstAtMs: number | undefined;
    let continuing = false;
    for (;;) {
      if (this.stopped) break;
      const tick = this.source.next();
      if (!tick) break;
      if (firstAtMs === undefined) {
        firstAtMs = tick.atMs;
        this.origin = { wallMs: wallStart, dataMs: firstAtMs };
      }
      const elapsed = tick.atMs - firstAtMs;
      await this.sleepUntil(wallStart + (this.options.pace ? this.options.pace(elapsed) : elapsed / this.options.speed));
      if (this.stopped) break;
      // A moment in parts (see Tick.continues) counts once.
      if (!continuing) this.stats.ticks += 1;
      continuing = tick.continues === true;
      this.stats.dataTimeMs = tick.atMs;
      for (const emission of tick.emissions) {
        // A promise only when the window is full: at 50k readings/s one per reading shows.
        if (!this.window.tryAcquire()) await this.window.acquire();
        this.send(emission);
      }
    }
    await this.window.drained();
  }

  private async sleepUntil(wallMs: number): Promise<void> {
    for (let wait = wallMs - this.now(); wait > 0 && !this.stopped; wait = wallMs - this.now()) await this.sleep(Math.min(wait, MAX_TIMER_MS));
  }

  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }

  private send(emission: Emission): void {
    this.stats.sent += 1;
    this.options.record?.({
      subject: emission.subject,
      ...(emission.dedupId !== undefined && { msgId: emission.dedupId }),
      data: parseOrRaw(emission.payload),
    });
    this.sink.publish(emission, this.settle);
  }

  /** One function for every publish, not a closure per reading. */
  private readonly settle = (emission: Emission, err?: Error): void => {
    if (err) {
      this.stats.errors += 1;
      this.stats.lastError = err.message;
    } else {
      this.stats.acked += 1;
      const counted = emission.counted;
      if (counted) this.truth.record(counted.communityId, counted.meterId, counted.state);
    }
    this.window.release();
  };
}

/** The recorded form of a payload: its JSON value, or the text itself when it is not JSON. */
function parseOrRaw(payload: string): unknown {
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    return payload;
  }
}

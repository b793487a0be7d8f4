import type { Clock, Timer } from "../../src/domain/clock.js";

interface Scheduled {
  dueMs: number;
  readonly everyMs: number | undefined;
  readonly run: () => void;
  readonly order: number;
  cancelled: boolean;
}

/**
 * A clock the test moves: `advance` runs every timer that falls due on the way, in time order,
 * each with the clock set to its due time. Wall and monotonic time move together.
 */
export class FakeClock implements Clock {
  private monotonicMs = 0;
  private scheduled: Scheduled[] = [];
  private order = 0;

  constructor(private readonly wallOriginMs: number) {}

  now(): number {
    return this.wallOriginMs + this.monotonicMs;
  }

  monotonic(): number {
    return this.monotonicMs;
  }

  after(ms: number, run: () => void): Timer {
    return this.schedule(ms, undefined, run);
  }

  every(ms: number, run: () => void): Timer {
    return this.schedule(ms, Math.max(1, ms), run);
  }

  /** Moves time forward by `ms`, running what falls due (timers a run schedules included). */
  advance(ms: number): void {
    const until = this.monotonicMs + ms;
    for (;;) {
      const next = this.scheduled.filter((s) => !s.cancelled && s.dueMs <= until).sort((a, b) => a.dueMs - b.dueMs || a.order - b.order)[0];
      if (!next) break;
      this.monotonicMs = Math.max(this.monotonicMs, next.dueMs);
      if (next.everyMs === undefined) next.cancelled = true;
      else next.dueMs += next.everyMs;
      next.run();
    }
    this.scheduled = this.scheduled.filter((s) => !s.cancelled);
    this.monotonicMs = until;
  }

  private schedule(ms: number, everyMs: number | undefined, run: () => void): Timer {
    const entry: Scheduled = { dueMs: this.monotonicMs + Math.max(0, ms), everyMs, run, order: this.order++, cancelled: false };
    this.scheduled.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }
}

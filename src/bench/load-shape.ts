/**
 * The load shape of a bench run (issue 20): stages that ramp linearly, as k6's do. Each stage
 * goes from the previous stage's rate (the first from `startRate`) to its own over its
 * duration. Pure: the readings each stage schedules, and when the n-th reading is due.
 */

export interface Stage {
  readonly durationMs: number;
  /** Readings/s (all communities together) at the stage's end. */
  readonly rate: number;
}

export interface LoadShape {
  /** The rate the first stage ramps from. */
  readonly startRate: number;
  readonly stages: readonly Stage[];
}

/** One stage at a fixed rate: what `--rate` and `--duration` give without a plan. */
export const steady = (rate: number, durationMs: number): LoadShape => ({ startRate: rate, stages: [{ durationMs, rate }] });

interface Segment {
  readonly startMs: number;
  readonly durationMs: number;
  readonly fromRate: number;
  readonly toRate: number;
  /** Readings scheduled before this stage. */
  readonly before: number;
  readonly readings: number;
}

function segments(shape: LoadShape): Segment[] {
  let startMs = 0;
  let before = 0;
  let fromRate = shape.startRate;
  return shape.stages.map(({ durationMs, rate }) => {
    const readings = ((fromRate + rate) / 2) * (durationMs / 1000);
    const segment = { startMs, durationMs, fromRate, toRate: rate, before, readings };
    startMs += durationMs;
    before += readings;
    fromRate = rate;
    return segment;
  });
}

/** The readings each stage schedules: the area under its ramp (rates × seconds), not rounded. */
export function readingsPerStage(shape: LoadShape): number[] {
  return segments(shape).map((s) => s.readings);
}

export function totalDurationMs(shape: LoadShape): number {
  return shape.stages.reduce((sum, s) => sum + s.durationMs, 0);
}

export function peakRate(shape: LoadShape): number {
  return Math.max(shape.startRate, ...shape.stages.map((s) => s.rate));
}

/** The stage that is running `elapsedMs` after the start (the last one from its end on). */
export function stageAt(shape: LoadShape, elapsedMs: number): number {
  let endMs = 0;
  for (let i = 0; i < shape.stages.length; i += 1) {
    endMs += shape.stages[i]!.durationMs;
    if (elapsedMs < endMs) return i;
  }
  return shape.stages.length - 1;
}

/**
 * When (ms after the start) the shape has scheduled `n` readings: the inverse of the ramps'
 * area. Within a stage the rate is r(t) = a + (b − a)·t/d, so its readings by t are
 * a·t + (b − a)·t²/2d, a quadratic solved for t. Past the end it continues at the last rate.
 */
export function dueAtMs(shape: LoadShape, n: number): number {
  const all = segments(shape);
  const segment = all.find((s) => n <= s.before + s.readings) ?? all.at(-1)!;
  const left = n - segment.before;
  const seconds = segment.durationMs / 1000;
  const a = segment.fromRate;
  const slope = (segment.toRate - a) / seconds;
  let t: number;
  if (Math.abs(slope) < 1e-9) t = a > 0 ? left / a : 0;
  else {
    // slope/2·t² + a·t − left = 0, the root in [0, d] (past d, the line goes on).
    const root = (-a + Math.sqrt(Math.max(0, a * a + 2 * slope * left))) / slope;
    t = Number.isFinite(root) && root >= 0 ? root : left / Math.max(a, 1e-9);
  }
  if (left > segment.readings && segment === all.at(-1)) {
    const r = segment.toRate;
    return segment.startMs + segment.durationMs + (r > 0 ? ((left - segment.readings) / r) * 1000 : 0);
  }
  return segment.startMs + t * 1000;
}

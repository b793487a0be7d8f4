/** A scheduled run that can be called off. */
export interface Timer {
  cancel(): void;
}

/**
 * Time as a port (issue 19): what paces frames, ages values and ends glances. Production passes
 * the system's clock (`src/app/clock.ts`); tests pass one they advance by hand, so nothing
 * waits in real time.
 */
export interface Clock {
  /** Wall-clock ms since the epoch: what a user is shown (ages, times of day). */
  now(): number;
  /** Monotonic ms from an arbitrary origin: what paces frames, immune to steps of the wall clock. */
  monotonic(): number;
  /** Runs `run` once, `ms` from now. */
  after(ms: number, run: () => void): Timer;
  /** Runs `run` every `ms`. */
  every(ms: number, run: () => void): Timer;
}

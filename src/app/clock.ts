import type { Clock } from "../domain/clock.js";

/** The system's clock: Date.now, performance.now and the global timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  after: (ms, run) => {
    const timer = setTimeout(run, ms);
    return { cancel: () => clearTimeout(timer) };
  },
  every: (ms, run) => {
    const timer = setInterval(run, ms);
    return { cancel: () => clearInterval(timer) };
  },
};

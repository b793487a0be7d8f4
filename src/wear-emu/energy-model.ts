/**
 * What the watch spends on the relay's updates: a small, documented model (issue 5, item 5).
 *
 * Three terms, each linear in what the run measured, so a run of any length scales to a day:
 * - a fixed cost per delivery (waking the application processor and running the listener),
 * - radio energy per KB received plus a radio tail after each transfer (overlapping tails merge,
 *   which is why coalescing bursts pays off),
 * - screen power while the app is on screen.
 * The defaults are estimates, not measurements; each says what it is based on.
 */
export interface EnergyParams {
  /** Energy to wake the watch's application processor and handle one delivery, mJ. */
  readonly wakeupMj: number;
  /** Radio energy per KB (1024 bytes) received, mJ. */
  readonly radioMjPerKb: number;
  /** The radio stays on this long after each transfer (tail), ms; overlapping tails merge. */
  readonly radioTailMs: number;
  /** Radio power during the tail, mW. */
  readonly radioTailMw: number;
  /** Extra power while the app's screen is on, mW. */
  readonly screenOnMw: number;
  /** Battery capacity, mAh. */
  readonly batteryMah: number;
  /** Battery nominal voltage, V. */
  readonly batteryVolts: number;
}

export const DEFAULT_ENERGY: EnergyParams = {
  // Estimate: a Wear OS application processor leaving deep sleep and running a Data Layer
  // listener draws ~100–200 mW for ~50–100 ms; 10 mJ is the middle of that.
  wakeupMj: 10,
  // Estimate: a BLE radio at ~15 mW moving ~30 KB/s of effective throughput (1M PHY with
  // protocol overhead) spends ~0.5 mJ per KB.
  radioMjPerKb: 0.5,
  // Estimate: after a transfer the BLE link stays in its fast connection interval for a few
  // hundred ms before it relaxes; 300 ms.
  radioTailMs: 300,
  // Estimate: BLE radio power with a short connection interval, ~10–30 mW; 20 mW.
  radioTailMw: 20,
  // Estimate: a 1.2–1.4" AMOLED showing a mostly dark app face at moderate brightness,
  // plus rendering, ~30–80 mW above screen-off; 50 mW.
  screenOnMw: 50,
  // The 300 mAh; typical of 40–45 mm Wear OS watches (Pixel Watch 294 mAh,
  // Galaxy Watch4 247–361 mAh).
  batteryMah: 300,
  // Nominal voltage of the high-voltage Li-ion polymer cells these watches use.
  batteryVolts: 3.85,
};

export interface EnergyInput {
  /** Length of the run the figures come from, ms (> 0). */
  readonly durationMs: number;
  /** Every delivery to the watch: when, and how many bytes it carried. Any order. */
  readonly wakeups: ReadonlyArray<{ readonly atMs: number; readonly bytes: number }>;
  /** Total time the app was on screen during the run, ms. */
  readonly screenOnMs: number;
}

export interface EnergyReport {
  readonly wakeupsPerHour: number;
  readonly bytesPerHour: number;
  readonly mAhPerDay: number;
  /** mAhPerDay as a percentage of `batteryMah`. */
  readonly batteryPercentPerDay: number;
  readonly breakdownMjPerDay: { readonly wakeups: number; readonly radio: number; readonly screen: number };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const BYTES_PER_KB = 1024;

/**
 * Estimates what the run would cost per day. Rates and energies are scaled linearly from
 * `durationMs` to an hour or 24 h. A tail that runs past the end of the run still counts in
 * full: the transfer that caused it happened inside the run.
 */
export function energyReport(input: EnergyInput, params: EnergyParams = DEFAULT_ENERGY): EnergyReport {
  const { durationMs, wakeups, screenOnMs } = input;
  if (!Number.isFinite(durationMs) || durationMs <= 0) throw new RangeError(`durationMs must be a positive number of ms, not ${durationMs}`);
  if (!Number.isFinite(screenOnMs) || screenOnMs < 0) throw new RangeError(`screenOnMs must be ≥ 0, not ${screenOnMs}`);

  const bytes = wakeups.reduce((sum, w) => sum + w.bytes, 0);
  const wakeupMj = wakeups.length * params.wakeupMj;
  const transferMj = (bytes / BYTES_PER_KB) * params.radioMjPerKb;
  const tailMj = (mergedTailMs(wakeups, params.radioTailMs) * params.radioTailMw) / 1000; // mW × s = mJ
  const screenMj = (screenOnMs * params.screenOnMw) / 1000;

  const toDay = DAY_MS / durationMs;
  const breakdownMjPerDay = { wakeups: wakeupMj * toDay, radio: (transferMj + tailMj) * toDay, screen: screenMj * toDay };
  const totalMjPerDay = breakdownMjPerDay.wakeups + breakdownMjPerDay.radio + breakdownMjPerDay.screen;
  // mJ → J is /1000, J / V = C, and 1 mAh = 3.6 C: mAh = mJ / (V × 3600).
  const mAhPerDay = totalMjPerDay / (params.batteryVolts * 3600);
  return {
    wakeupsPerHour: (wakeups.length * HOUR_MS) / durationMs,
    bytesPerHour: (bytes * HOUR_MS) / durationMs,
    mAhPerDay,
    batteryPercentPerDay: (100 * mAhPerDay) / params.batteryMah,
    breakdownMjPerDay,
  };
}

/** Length of the union of [atMs, atMs + tailMs) over all transfers. */
function mergedTailMs(wakeups: EnergyInput["wakeups"], tailMs: number): number {
  if (tailMs <= 0 || wakeups.length === 0) return 0;
  const starts = Float64Array.from(wakeups, (w) => w.atMs).sort();
  let total = 0;
  let runStart = starts[0] ?? 0;
  let runEnd = runStart + tailMs;
  for (const at of starts) {
    if (at > runEnd) {
      total += runEnd - runStart;
      runStart = at;
    }
    runEnd = at + tailMs;
  }
  return total + runEnd - runStart;
}

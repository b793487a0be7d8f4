import { dayOfYear } from "./load-profile.js";
import { type Random, gaussian } from "./random.js";

/** Seasonal and daily cycle of the outdoor temperature in central Europe (°C), without noise; `date` in local time (see localTime). */
export function typicalTemperatureC(date: Date): number {
  // Coldest around 15 January, warmest around mid-July; warmest hour of the day ~15:00.
  const seasonal = 9.5 - 9.5 * Math.cos((2 * Math.PI * (dayOfYear(date) - 15)) / 365);
  const hour = date.getUTCHours() + date.getUTCMinutes() / 60;
  const daily = 4 * Math.cos((2 * Math.PI * (hour - 15)) / 24);
  return seasonal + daily;
}

/**
 * A community's weather: the sky's clearness (0…1, scaling clear-sky PV) and the outdoor
 * temperature, each a mean-reverting AR(1) process, so that clouds drift over minutes and
 * all meters of the community share them.
 */
export class Weather {
  private clearness: number;
  private temperatureAnomalyC = 0;

  constructor(
    private readonly random: Random,
    /** Mean clearness of the place and season; 0.7 is a mixed sky. */
    private readonly meanClearness = 0.7,
  ) {
    this.clearness = meanClearness;
  }

  /** Advances both processes by `seconds` of simulated time. */
  advance(seconds: number): void {
    // Clouds: time constant ~10 minutes; temperature anomaly: ~6 hours.
    const keepClouds = Math.exp(-seconds / 600);
    const cloudNoise = Math.sqrt(1 - keepClouds * keepClouds) * 0.25 * gaussian(this.random);
    this.clearness = clamp(this.meanClearness + (this.clearness - this.meanClearness) * keepClouds + cloudNoise, 0.05, 1);
    const keepTemperature = Math.exp(-seconds / 21_600);
    this.temperatureAnomalyC = this.temperatureAnomalyC * keepTemperature + Math.sqrt(1 - keepTemperature ** 2) * 3 * gaussian(this.random);
  }

  get skyClearness(): number {
    return this.clearness;
  }

  temperatureC(date: Date): number {
    return typicalTemperatureC(date) + this.temperatureAnomalyC;
  }
}

export function clamp(value: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, value));
}

import { clamp } from "./weather.js";

/** An air-source heat pump heating one house. */
export interface HeatPumpSpec {
  /** Electrical power while running, in kW. */
  readonly electricKw: number;
  /** The house's heat loss in W per kelvin between inside and outside. */
  readonly heatLossWPerK: number;
}

const SETPOINT_C = 21;
const HYSTERESIS_C = 0.5;
/**
 * Thermal time constant of a building (capacity / heat loss): ~22 h, so a house at 21 °C
 * with the heat pump off cools by about 1 K in the first hour at 0 °C outside.
 */
const TIME_CONSTANT_S = 80_000;
/** Above this outdoor temperature nobody heats. */
const HEATING_LIMIT_C = 16;

/** Coefficient of performance of an air-source heat pump: better when it is milder outside. */
export function coefficientOfPerformance(outdoorC: number): number {
  return clamp(3 + 0.08 * outdoorC, 1.8, 5);
}

/**
 * On/off cycling driven by the indoor temperature: on below setpoint − hysteresis, off above
 * the setpoint; the house loses heat to the outside in proportion to the difference.
 */
export class HeatPump {
  private indoorC = SETPOINT_C;
  private running = false;

  constructor(readonly spec: HeatPumpSpec) {}

  /** Electrical power in W over a step of `seconds` at `outdoorC`. */
  powerW(outdoorC: number, seconds: number): number {
    if (outdoorC >= HEATING_LIMIT_C) {
      this.running = false;
      this.indoorC = SETPOINT_C;
      return 0;
    }
    if (this.indoorC < SETPOINT_C - HYSTERESIS_C) this.running = true;
    else if (this.indoorC > SETPOINT_C) this.running = false;
    const electricW = this.running ? this.spec.electricKw * 1000 : 0;
    const heatW = electricW * coefficientOfPerformance(outdoorC);
    const lossW = this.spec.heatLossWPerK * (this.indoorC - outdoorC);
    this.indoorC += ((heatW - lossW) * seconds) / (this.spec.heatLossWPerK * TIME_CONSTANT_S);
    return electricW;
  }

  get isRunning(): boolean {
    return this.running;
  }
}

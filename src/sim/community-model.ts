import { localTime } from "../domain/local-time.js";
import { type LoadProfiles, type MeterPower, MeterModel, type Surroundings } from "./meter-model.js";
import { hashString, seededRandom } from "./random.js";
import type { CommunitySpec } from "./scenario.js";
import { sunElevationDeg } from "./solar.js";
import { Weather } from "./weather.js";

/** A grid of the community's surroundings: every `stepMs` of data time from `startMs`. */
export interface SurroundingsGrid {
  readonly startMs: number;
  readonly stepMs: number;
}

/**
 * Produces the readings of one community over simulated time: one weather (clouds,
 * temperature) shared by its meters, each meter with its own random stream so that the
 * same seed gives the same readings whatever else runs.
 *
 * All meters at once (`powerAt`), or each meter at its own time (`meterPowerAt`, issue 17): the
 * surroundings (sun, weather, local time) then change on a grid of data time and are shared by
 * the meters stepping within one grid step, so a meter costs what it did when all reported at
 * once; each meter's own state (noise, spikes, battery, EV, heat pump) steps at its own times.
 */
export class CommunityModel {
  private readonly weather: Weather;
  private readonly meters: MeterModel[];
  private lastMs: number | undefined;
  private surroundings: Surroundings | undefined;
  /** Per meter, the data time of its last step (NaN: none yet). */
  private readonly meterLastMs: Float64Array;

  constructor(
    readonly spec: CommunitySpec,
    profiles: LoadProfiles,
    seed: number,
    /** Seconds the first step covers (the interval between readings). */
    private readonly firstStepSeconds = 1,
    /** Where `meterPowerAt` takes the surroundings from; default: at each meter's own time. */
    private readonly grid?: SurroundingsGrid,
  ) {
    this.weather = new Weather(seededRandom(seed ^ hashString(`${spec.communityId}/weather`)));
    this.meters = spec.meters.map((meter) => new MeterModel(meter, profiles, seededRandom(seed ^ hashString(`${spec.communityId}/${meter.meterId}`))));
    this.meterLastMs = new Float64Array(this.meters.length).fill(Number.NaN);
  }

  powerAt(date: Date): MeterPower[] {
    const surroundings = this.surroundingsAt(date);
    return this.meters.map((meter) => meter.step(surroundings));
  }

  /**
   * The power of meter `index` (in the spec's order) at `atMs`, over the step since its previous
   * one (`firstStepMs` for its first). Times must not go back, per meter nor per community.
   */
  meterPowerAt(index: number, atMs: number, firstStepMs: number): MeterPower {
    const { grid } = this;
    const gridMs = grid ? grid.startMs + Math.floor((atMs - grid.startMs) / grid.stepMs) * grid.stepMs : atMs;
    if (this.surroundings?.date.getTime() !== gridMs) this.surroundings = this.surroundingsAt(new Date(gridMs));
    const lastMs = this.meterLastMs[index]!;
    this.meterLastMs[index] = atMs;
    const seconds = Number.isNaN(lastMs) ? firstStepMs / 1000 : Math.max(0, (atMs - lastMs) / 1000);
    return this.meters[index]!.step(this.surroundings, seconds);
  }

  /** The surroundings at `date`, the weather advanced to it. */
  private surroundingsAt(date: Date): Surroundings {
    const nowMs = date.getTime();
    const seconds = this.lastMs === undefined ? this.firstStepSeconds : Math.max(0, (nowMs - this.lastMs) / 1000);
    this.lastMs = nowMs;
    this.weather.advance(seconds);
    const localDate = localTime(date, this.spec.timeZone);
    return {
      date,
      localDate,
      seconds,
      sunElevationDeg: sunElevationDeg(date, this.spec.latitudeDeg, this.spec.longitudeDeg),
      clearness: this.weather.skyClearness,
      outdoorC: this.weather.temperatureC(localDate),
    };
  }
}

import { localTime } from "../domain/local-time.js";
import { type LoadProfiles, type MeterPower, MeterModel } from "./meter-model.js";
import { hashString, seededRandom } from "./random.js";
import type { CommunitySpec } from "./scenario.js";
import { sunElevationDeg } from "./solar.js";
import { Weather } from "./weather.js";

/**
 * Produces the readings of one community over simulated time: one weather (clouds,
 * temperature) shared by its meters, each meter with its own random stream so that the
 * same seed gives the same readings whatever else runs.
 */
export class CommunityModel {
  private readonly weather: Weather;
  private readonly meters: MeterModel[];
  private lastMs: number | undefined;

  constructor(
    readonly spec: CommunitySpec,
    profiles: LoadProfiles,
    seed: number,
    /** Seconds the first step covers (the interval between readings). */
    private readonly firstStepSeconds = 1,
  ) {
    this.weather = new Weather(seededRandom(seed ^ hashString(`${spec.communityId}/weather`)));
    this.meters = spec.meters.map((meter) => new MeterModel(meter, profiles, seededRandom(seed ^ hashString(`${spec.communityId}/${meter.meterId}`))));
  }

  powerAt(date: Date): MeterPower[] {
    const nowMs = date.getTime();
    const seconds = this.lastMs === undefined ? this.firstStepSeconds : Math.max(0, (nowMs - this.lastMs) / 1000);
    this.lastMs = nowMs;
    this.weather.advance(seconds);
    const localDate = localTime(date, this.spec.timeZone);
    const surroundings = {
      date,
      localDate,
      seconds,
      sunElevationDeg: sunElevationDeg(date, this.spec.latitudeDeg, this.spec.longitudeDeg),
      clearness: this.weather.skyClearness,
      outdoorC: this.weather.temperatureC(localDate),
    };
    return this.meters.map((meter) => meter.step(surroundings));
  }
}

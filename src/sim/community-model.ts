import { type LoadProfile, profilePowerW } from "./load-profile.js";
import { type Random, gaussian, hashString, seededRandom } from "./random.js";
import { pvPowerW, sunElevationDeg } from "./solar.js";

/** One simulated household. */
export interface MeterSpec {
  readonly meterId: string;
  /** Annual consumption in kWh (scales the standard load profile). */
  readonly annualKwh: number;
  /** Installed PV peak power; 0 for a pure consumer. */
  readonly kWp: number;
}

export interface CommunitySpec {
  readonly communityId: string;
  readonly latitudeDeg: number;
  readonly longitudeDeg: number;
  readonly meters: readonly MeterSpec[];
}

/** Power behind one meter at one moment, whole watts. */
export interface MeterPower {
  readonly meterId: string;
  readonly genW: number;
  readonly conW: number;
}

/** Share of households with a PV system. */
const PROSUMER_SHARE = 0.4;

export const communityIdOf = (index: number): string => `community${index + 1}`;
export const meterIdOf = (index: number): string => `meter${String(index + 1).padStart(3, "0")}`;

/** A community in Germany with `meterCount` households, the same for the same seed. */
export function describeCommunity(communityId: string, meterCount: number, seed: number): CommunitySpec {
  const random = seededRandom(seed ^ hashString(communityId));
  const meters = Array.from({ length: meterCount }, (_, index): MeterSpec => {
    const prosumer = random() < PROSUMER_SHARE;
    return {
      meterId: meterIdOf(index),
      annualKwh: Math.round(2_000 + random() * 4_000),
      kWp: prosumer ? Math.round((3 + random() * 7) * 10) / 10 : 0,
    };
  });
  return { communityId, latitudeDeg: 48 + random() * 5, longitudeDeg: 7 + random() * 6, meters };
}

/**
 * Produces the readings of one community over simulated time: PV from the sun's
 * elevation under a cloud cover shared by the community (an AR(1) process), household
 * load from the BDEW H25 profile with per-meter noise and short appliance spikes.
 */
export class CommunityModel {
  private readonly random: Random;
  private clearness = 0.8;
  private lastMs: number | undefined;
  private readonly spikes = new Map<string, { untilMs: number; watts: number }>();

  constructor(
    readonly spec: CommunitySpec,
    private readonly profile: LoadProfile,
    seed: number,
  ) {
    this.random = seededRandom(seed ^ hashString(`${spec.communityId}/weather`));
  }

  powerAt(date: Date): MeterPower[] {
    const nowMs = date.getTime();
    const stepS = this.lastMs === undefined ? 1 : Math.max(0, (nowMs - this.lastMs) / 1000);
    this.lastMs = nowMs;
    this.advanceClouds(stepS);
    const elevation = sunElevationDeg(date, this.spec.latitudeDeg, this.spec.longitudeDeg);
    return this.spec.meters.map((meter) => {
      const shade = 1 + 0.05 * gaussian(this.random);
      const genW = meter.kWp > 0 ? pvPowerW(elevation, meter.kWp, this.clearness * shade) : 0;
      const base = profilePowerW(this.profile, date, meter.annualKwh) * Math.max(0.3, 1 + 0.15 * gaussian(this.random));
      const conW = base + this.spikeW(meter.meterId, nowMs, stepS);
      return { meterId: meter.meterId, genW: Math.round(Math.max(0, genW)), conW: Math.round(Math.max(0, conW)) };
    });
  }

  /** Mean-reverting cloud cover: clearness drifts around 0.7 with a time constant of ~10 minutes. */
  private advanceClouds(stepS: number): void {
    const keep = Math.exp(-stepS / 600);
    const noise = Math.sqrt(1 - keep * keep) * 0.25 * gaussian(this.random);
    this.clearness = Math.max(0.05, Math.min(1, 0.7 + (this.clearness - 0.7) * keep + noise));
  }

  /** Kettles, ovens, washing machines: a few kW for a few minutes, a few times a day. */
  private spikeW(meterId: string, nowMs: number, stepS: number): number {
    const spike = this.spikes.get(meterId);
    if (spike && spike.untilMs > nowMs) return spike.watts;
    if (this.random() < stepS / 7_200) {
      const next = { untilMs: nowMs + (1 + this.random() * 20) * 60_000, watts: 1_500 + this.random() * 2_000 };
      this.spikes.set(meterId, next);
      return next.watts;
    }
    this.spikes.delete(meterId);
    return 0;
  }
}

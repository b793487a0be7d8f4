import { Battery } from "./battery.js";
import { EvCharger } from "./ev.js";
import { HeatPump } from "./heat-pump.js";
import { type LoadProfile, profilePowerW } from "./load-profile.js";
import { type Random, gaussian } from "./random.js";
import type { MeterKind, MeterSpec } from "./scenario.js";
import { pvPowerW } from "./solar.js";

/** What all meters of a community share at one moment. */
export interface Surroundings {
  readonly date: Date;
  /** The community's wall-clock time (see localTime): load profiles and EVs follow it. */
  readonly localDate: Date;
  /** Simulated seconds since the previous step. */
  readonly seconds: number;
  readonly sunElevationDeg: number;
  /** 0…1, scales clear-sky PV. */
  readonly clearness: number;
  readonly outdoorC: number;
}

/** Power behind one meter at one moment, whole watts. */
export interface MeterPower {
  readonly meterId: string;
  readonly genW: number;
  readonly conW: number;
}

export type LoadProfiles = Readonly<Record<MeterKind, LoadProfile>>;

/**
 * Kettles, ovens, washing machines: 1.5–3.5 kW for 1–10 minutes, once a day per 1,000 kWh
 * of annual consumption. Their energy is part of the profile's, so the smooth base is
 * lowered by their expected share and a household still uses its annual kWh.
 */
const SPIKE = { minW: 1_500, maxW: 3_500, minMinutes: 1, maxMinutes: 10, perDayPerMwh: 1 } as const;
const SPIKE_KWH_PER_KWH =
  (365 * SPIKE.perDayPerMwh * ((SPIKE.minMinutes + SPIKE.maxMinutes) / 2 / 60) * ((SPIKE.minW + SPIKE.maxW) / 2 / 1000)) / 1000;

/**
 * One meter: base load from its BDEW profile with noise (and appliance spikes for
 * households), PV, an EV, a heat pump, and a battery that charges from what is left over
 * and discharges into what is missing. genW = PV + discharge; conW = everything else.
 */
export class MeterModel {
  private readonly battery: Battery | undefined;
  private readonly ev: EvCharger | undefined;
  private readonly heatPump: HeatPump | undefined;
  /** This roof's share of the community's sky: orientation, shading, soiling. */
  private readonly pvFactor: number;
  private loadNoise = 0;
  private spike = { startMs: 0, untilMs: 0, watts: 0 };

  constructor(
    readonly spec: MeterSpec,
    private readonly profiles: LoadProfiles,
    private readonly random: Random,
  ) {
    this.battery = spec.battery && new Battery(spec.battery);
    this.ev = spec.ev && new EvCharger(spec.ev, random);
    this.heatPump = spec.heatPump && new HeatPump(spec.heatPump);
    this.pvFactor = Math.max(0.6, Math.min(1.05, 0.9 + 0.07 * gaussian(random)));
  }

  /** The power over a step of `seconds` (by default the surroundings' step: a meter may step at its own cadence). */
  step(at: Surroundings, seconds = at.seconds): MeterPower {
    const pvW = this.spec.pvKwp > 0 ? pvPowerW(at.sunElevationDeg, this.spec.pvKwp, at.clearness * this.pvFactor * (1 + 0.03 * gaussian(this.random))) : 0;
    const loadW =
      this.baseLoadW(at, seconds) +
      (this.ev?.powerW(at.localDate.getTime(), seconds) ?? 0) +
      (this.heatPump?.powerW(at.outdoorC, seconds) ?? 0);
    const flow = this.battery?.step(pvW - loadW, seconds) ?? { chargeW: 0, dischargeW: 0 };
    return {
      meterId: this.spec.meterId,
      genW: Math.round(pvW + flow.dischargeW),
      conW: Math.round(loadW + flow.chargeW),
    };
  }

  private baseLoadW(at: Surroundings, seconds: number): number {
    if (this.spec.annualKwh <= 0) return 0;
    const expected = profilePowerW(this.profiles[this.spec.kind], at.localDate, this.spec.annualKwh);
    // Noise with memory (~5 minutes), so consecutive 1-second readings are related.
    const keep = Math.exp(-seconds / 300);
    this.loadNoise = this.loadNoise * keep + Math.sqrt(1 - keep * keep) * 0.25 * gaussian(this.random);
    const noisy = Math.max(0.2, 1 + this.loadNoise);
    if (this.spec.kind !== "household") return expected * noisy;
    return expected * (1 - SPIKE_KWH_PER_KWH) * noisy + this.spikeW(at.date.getTime(), seconds);
  }

  /** The spike's average power over the step [now, now + seconds), so coarse steps keep the energy right. */
  private spikeW(nowMs: number, seconds: number): number {
    const stepMs = seconds * 1000;
    if (stepMs <= 0) return 0;
    const perSecond = (SPIKE.perDayPerMwh * this.spec.annualKwh) / 1000 / 86_400;
    if (this.spike.untilMs <= nowMs && this.random() < 1 - Math.exp(-perSecond * seconds)) {
      const minutes = SPIKE.minMinutes + this.random() * (SPIKE.maxMinutes - SPIKE.minMinutes);
      this.spike = { startMs: nowMs, untilMs: nowMs + minutes * 60_000, watts: SPIKE.minW + this.random() * (SPIKE.maxW - SPIKE.minW) };
    }
    const overlapMs = Math.min(this.spike.untilMs, nowMs + stepMs) - Math.max(this.spike.startMs, nowMs);
    return overlapMs > 0 ? (this.spike.watts * overlapMs) / stepMs : 0;
  }
}

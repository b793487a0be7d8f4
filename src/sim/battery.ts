/** A home battery's limits. */
export interface BatterySpec {
  /** Usable capacity in kWh. */
  readonly capacityKwh: number;
  /** Largest charge or discharge power in kW. */
  readonly powerKw: number;
}

/** What the battery did during one step, in watts (one of them is 0). */
export interface BatteryFlow {
  readonly chargeW: number;
  readonly dischargeW: number;
}

/** Round-trip losses, split evenly between charging and discharging. */
const ONE_WAY_EFFICIENCY = Math.sqrt(0.9);

/**
 * A home battery that charges from surplus and discharges on deficit, within its power
 * and its state of charge. Pure state machine: `step` is all there is.
 */
export class Battery {
  private energyWh: number;

  constructor(
    readonly spec: BatterySpec,
    initialSoc = 0.5,
  ) {
    this.energyWh = spec.capacityKwh * 1000 * Math.max(0, Math.min(1, initialSoc));
  }

  /** State of charge, 0…1. */
  get soc(): number {
    return this.energyWh / (this.spec.capacityKwh * 1000);
  }

  /** Takes `surplusW` (> 0: PV beyond the load; < 0: a deficit) for `seconds`. */
  step(surplusW: number, seconds: number): BatteryFlow {
    if (seconds <= 0) return { chargeW: 0, dischargeW: 0 };
    const hours = seconds / 3600;
    const limitW = this.spec.powerKw * 1000;
    const capacityWh = this.spec.capacityKwh * 1000;
    if (surplusW > 0) {
      const roomW = (capacityWh - this.energyWh) / hours / ONE_WAY_EFFICIENCY;
      const chargeW = Math.max(0, Math.min(surplusW, limitW, roomW));
      this.energyWh = Math.min(capacityWh, this.energyWh + chargeW * hours * ONE_WAY_EFFICIENCY);
      return { chargeW, dischargeW: 0 };
    }
    const availableW = (this.energyWh / hours) * ONE_WAY_EFFICIENCY;
    const dischargeW = Math.max(0, Math.min(-surplusW, limitW, availableW));
    this.energyWh = Math.max(0, this.energyWh - (dischargeW * hours) / ONE_WAY_EFFICIENCY);
    return { chargeW: 0, dischargeW };
  }
}

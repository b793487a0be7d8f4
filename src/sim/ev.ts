import { type Random, gaussian } from "./random.js";

/** An electric car that charges at home. */
export interface EvSpec {
  /** Wallbox power in kW: 3.7 (one phase, 16 A), 7.4 or 11 (three phases). */
  readonly chargeKw: number;
  /** Energy needed after an average day's driving, in kWh. */
  readonly dailyKwh: number;
}

interface Session {
  readonly startMs: number;
  readonly endMs: number;
  remainingWh: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Charging at home: the car arrives in the evening (around 18:00, ± 1.5 h), needs
 * about a day's energy (± 40 %), charges at full wallbox power until it has it, and
 * leaves around 07:00 the next morning whatever it got.
 */
export class EvCharger {
  private session: Session | undefined;
  private plannedDay = Number.NaN;

  constructor(
    readonly spec: EvSpec,
    private readonly random: Random,
  ) {}

  /** Charging power in W during a step of `seconds` that starts at `nowMs` (the community's local time, see localTime). */
  powerW(nowMs: number, seconds: number): number {
    this.plan(nowMs);
    const session = this.session;
    if (!session || nowMs < session.startMs || nowMs >= session.endMs || session.remainingWh <= 0) return 0;
    const watts = Math.min(this.spec.chargeKw * 1000, session.remainingWh / (seconds / 3600));
    session.remainingWh -= watts * (seconds / 3600);
    return watts;
  }

  /** Plans tonight's session once per day (at the first step of the day). */
  private plan(nowMs: number): void {
    const day = Math.floor(nowMs / DAY_MS);
    if (day === this.plannedDay) return;
    // Yesterday's session may still run past midnight.
    if (this.session && nowMs < this.session.endMs && this.session.startMs < day * DAY_MS) return;
    this.plannedDay = day;
    const arrivalH = Math.min(23.5, Math.max(15, 18 + 1.5 * gaussian(this.random)));
    const departureH = 24 + Math.min(9, Math.max(5, 7 + gaussian(this.random)));
    const neededKwh = Math.max(0, this.spec.dailyKwh * (1 + 0.4 * gaussian(this.random)));
    this.session = { startMs: day * DAY_MS + arrivalH * HOUR_MS, endMs: day * DAY_MS + departureH * HOUR_MS, remainingWh: neededKwh * 1000 };
  }
}

/**
 * One meter's readings integrated into energy by the rule of validity.ts, the same whatever
 * order the readings arrive in (issue 17). Pure: no I/O.
 *
 * Readings wait (`pending`) until no reading can still come before them in data time: once the
 * community's newest reading is a grace (GRACE_INTERVALS of the meter's intervals) past a
 * pending reading, the energy between it and the reading before (the `anchor`) is final and is
 * emitted, and it becomes the anchor. A reading that arrives before the anchor comes too late
 * to be integrated in its place: it is `late`, and counted as such, never silently dropped. A
 * meter silent for longer than its reading holds is closed: its last reading's hold is emitted.
 *
 * `cursorMs` is where the meter's emitted energy ends: a later reading never emits energy
 * before it (an averaged reading after a closed one), and a store can record it, so a
 * rebuilt integrator does not count an interval a second time (see day-ledger.ts).
 */
import type { PowerReading } from "./meter-energy.js";
import { LEARNED_GAPS, cadenceMs, graceMs, holdMs } from "./validity.js";

export interface RuleReading extends PowerReading {
  readonly seq: number;
  /** The meter's reporting interval, when the reading declares it. */
  readonly intervalMs?: number;
  /** genW/conW are the mean power over the `intervalMs` ending at measuredAt (gateway values, load profiles). */
  readonly averaged?: boolean;
}

/** What became of an offered reading. */
export type Offered = "pending" | "duplicate" | "late";

/** Receives each piece of final energy: `power` from `fromMs` to `toMs` (data time, fromMs < toMs). */
export type EmitEnergy = (fromMs: number, toMs: number, power: PowerReading) => void;

/** A reading as stored: [genW, conW, measuredAtMs, seq, intervalMs (0: none), averaged (1) or not (0)]. */
export type StoredReading = readonly [number, number, number, number, number, number];

/** An integrator as stored in a snapshot. */
export interface IntegratorState {
  readonly anchor?: StoredReading;
  readonly closed?: boolean;
  /** Absent: nothing emitted yet. */
  readonly cursorMs?: number;
  readonly gaps: readonly number[];
  readonly pending: readonly StoredReading[];
}

export const storedReading = (r: RuleReading): StoredReading => [r.genW, r.conW, r.measuredAtMs, r.seq, r.intervalMs ?? 0, r.averaged ? 1 : 0];

export function readingOf([genW, conW, measuredAtMs, seq, intervalMs, averaged]: StoredReading): RuleReading {
  return { genW, conW, measuredAtMs, seq, ...(intervalMs > 0 && { intervalMs }), ...(averaged === 1 && { averaged: true }) };
}

/** Scratch space of cadenceMs and cadenceAt (the order of the gaps does not matter to a median). */
const recentGaps: number[] = [];

export class MeterIntegrator {
  /** The newest reading whose energy before it is final. */
  private anchor: RuleReading | undefined;
  /** The anchor's hold has been emitted: the meter was silent for longer than it holds. */
  private closed = false;
  private cursorMs = Number.NEGATIVE_INFINITY;
  /** The last LEARNED_GAPS gaps between readings, up to the anchor. */
  private gaps: number[] = [];
  /** Readings after the anchor, in data-time order, not yet final. */
  private pending: RuleReading[] = [];
  /** holdMs(), until the readings change. */
  private liveHoldMs: number | undefined;

  constructor(
    /** The tolerance's floor (`--stale-after`). */
    private readonly floorMs: number,
  ) {}

  static restore(state: IntegratorState, floorMs: number): MeterIntegrator {
    const integrator = new MeterIntegrator(floorMs);
    integrator.anchor = state.anchor && readingOf(state.anchor);
    integrator.closed = state.closed === true;
    integrator.cursorMs = state.cursorMs ?? Number.NEGATIVE_INFINITY;
    // Fields a hand-edited or damaged snapshot may lack: a meter then starts from what is there.
    integrator.gaps = [...(state.gaps ?? [])];
    integrator.pending = (state.pending ?? []).map(readingOf);
    return integrator;
  }

  /** A meter known only by its newest reading (a snapshot of before issue 17): integrated from that reading on. */
  static startingAt(reading: RuleReading, floorMs: number): MeterIntegrator {
    const integrator = new MeterIntegrator(floorMs);
    integrator.anchor = reading;
    integrator.cursorMs = reading.measuredAtMs;
    return integrator;
  }

  state(): IntegratorState {
    return {
      ...(this.anchor && { anchor: storedReading(this.anchor) }),
      ...(this.closed && { closed: true }),
      ...(Number.isFinite(this.cursorMs) && { cursorMs: this.cursorMs }),
      gaps: [...this.gaps],
      pending: this.pending.map(storedReading),
    };
  }

  /** The newest reading: the meter's live value. */
  newest(): RuleReading | undefined {
    return this.pending.at(-1) ?? this.anchor;
  }

  /** The meter's cadence now (declared by its newest reading, or learned from its last gaps, pending ones included). */
  cadenceMs(): number | undefined {
    const newest = this.newest();
    if (newest?.intervalMs !== undefined) return newest.intervalMs;
    // The last LEARNED_GAPS gaps, newest first: between pending readings, then the anchor's, then those kept.
    const gaps = recentGaps;
    gaps.length = 0;
    for (let i = this.pending.length - 1; i >= 0 && gaps.length < LEARNED_GAPS; i -= 1) {
      const before = i > 0 ? this.pending[i - 1] : this.anchor;
      if (before) gaps.push(this.pending[i]!.measuredAtMs - before.measuredAtMs);
    }
    for (let i = this.gaps.length - 1; i >= 0 && gaps.length < LEARNED_GAPS; i -= 1) gaps.push(this.gaps[i]!);
    return cadenceMs(undefined, gaps);
  }

  /** How long the newest reading holds after its measuredAt (the live totals' rule); kept until the readings change. */
  get holdMs(): number {
    return (this.liveHoldMs ??= holdMs(this.cadenceMs(), this.floorMs));
  }

  // The newest reading's power and time: with `holdMs`, the meter as the live totals count it (LiveMeter).
  get genW(): number {
    return this.newest()!.genW;
  }
  get conW(): number {
    return this.newest()!.conW;
  }
  get measuredAtMs(): number {
    return this.newest()!.measuredAtMs;
  }

  /** How far this meter's integration has come: where its energy ends, or its anchor. */
  progressMs(): number {
    return Math.max(this.cursorMs, this.anchor?.measuredAtMs ?? Number.NEGATIVE_INFINITY);
  }

  /** The data time before which this meter's energy is final; Infinity for a meter that stopped. */
  finalThroughMs(): number {
    if (this.closed && !this.pending.length) return Number.POSITIVE_INFINITY;
    return this.anchor?.measuredAtMs ?? Number.NEGATIVE_INFINITY;
  }

  /** Takes a reading: waits in its place, changes nothing (same time as one known, not a higher seq), or comes too late. */
  offer(reading: RuleReading): Offered {
    const offered = this.place(reading);
    if (offered === "pending") this.liveHoldMs = undefined;
    return offered;
  }

  private place(reading: RuleReading): Offered {
    const anchor = this.anchor;
    const at = reading.measuredAtMs;
    if (anchor && at <= anchor.measuredAtMs) {
      if (at < anchor.measuredAtMs) return "late";
      // The same moment again: a higher seq corrects it while its hold is still open.
      if (reading.seq <= anchor.seq || this.closed) return "duplicate";
      this.anchor = { ...reading };
      return "pending";
    }
    if (this.closed && at < this.cursorMs) return "late";
    let index = this.pending.length;
    while (index > 0 && this.pending[index - 1]!.measuredAtMs > at) index -= 1;
    const same = this.pending[index - 1];
    if (same?.measuredAtMs === at) {
      if (reading.seq <= same.seq) return "duplicate";
      this.pending[index - 1] = { ...reading };
      return "pending";
    }
    this.pending.splice(index, 0, { ...reading });
    return "pending";
  }

  /** The cadence at `reading` were it the next anchor: declared, or learned from the gaps up to it. */
  private cadenceAt(reading: RuleReading): number | undefined {
    if (reading.intervalMs !== undefined) return reading.intervalMs;
    if (!this.anchor) return cadenceMs(undefined, this.gaps);
    const gaps = recentGaps;
    gaps.length = 0;
    gaps.push(reading.measuredAtMs - this.anchor.measuredAtMs);
    for (let i = this.gaps.length - 1; i >= 0 && gaps.length < LEARNED_GAPS; i -= 1) gaps.push(this.gaps[i]!);
    return cadenceMs(undefined, gaps);
  }

  /** The newest data time of the community at which `advance` will emit something; Infinity when nothing waits. */
  deadlineMs(): number {
    const next = this.pending[0];
    // A first reading has no cadence of its own yet: the readings after it tell it.
    if (next) return next.measuredAtMs + graceMs(this.cadenceAt(next) ?? this.cadenceMs());
    const anchor = this.anchor;
    if (!anchor || this.closed) return Number.POSITIVE_INFINITY;
    const cadence = cadenceMs(anchor.intervalMs, this.gaps);
    return anchor.measuredAtMs + holdMs(cadence, this.floorMs) + graceMs(cadence);
  }

  /** Emits the energy that is final once the community's newest reading is at `watermarkMs`. */
  advance(watermarkMs: number, emit: EmitEnergy): void {
    while (this.deadlineMs() <= watermarkMs) {
      const next = this.pending.shift();
      if (next) this.settle(next, emit);
      else this.close(emit);
    }
  }

  /** The energy between the anchor and `next`, then `next` is the anchor. */
  private settle(next: RuleReading, emit: EmitEnergy): void {
    const anchor = this.anchor;
    const nextStartMs = next.averaged && next.intervalMs !== undefined ? next.measuredAtMs - next.intervalMs : next.measuredAtMs;
    if (anchor && !this.closed && !anchor.averaged) {
      const cadence = cadenceMs(anchor.intervalMs, this.gaps);
      this.emit(anchor.measuredAtMs, Math.min(nextStartMs, anchor.measuredAtMs + holdMs(cadence, this.floorMs)), anchor, emit);
    }
    if (next.averaged && next.intervalMs !== undefined) this.emit(Math.max(nextStartMs, anchor?.measuredAtMs ?? nextStartMs), next.measuredAtMs, next, emit);
    if (anchor) {
      if (this.gaps.length >= LEARNED_GAPS) this.gaps.shift();
      this.gaps.push(next.measuredAtMs - anchor.measuredAtMs);
    }
    this.anchor = next;
    this.closed = false;
  }

  /** The meter stayed silent for longer than its anchor holds: the hold is final. */
  private close(emit: EmitEnergy): void {
    const anchor = this.anchor!;
    if (!anchor.averaged) this.emit(anchor.measuredAtMs, anchor.measuredAtMs + holdMs(cadenceMs(anchor.intervalMs, this.gaps), this.floorMs), anchor, emit);
    this.closed = true;
  }

  private emit(fromMs: number, toMs: number, power: PowerReading, emit: EmitEnergy): void {
    const from = Math.max(fromMs, this.cursorMs);
    if (toMs > from) {
      emit(from, toMs, power);
      this.cursorMs = toMs;
    }
  }
}

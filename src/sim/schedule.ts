import { jitterMs } from "./cadence.js";

/** Something that reports on a schedule: a meter, or a community at community level. */
export interface ScheduledUnit {
  /** Data time between two of its events (its readings, or an averaged meter's samples). */
  readonly periodMs: number;
  /** Its first event is at startMs + firstMs (≥ 0): the phase, plus whole periods for an averaged meter. */
  readonly firstMs: number;
  /** The most an event is moved by jitter, ms; less than half the period (0: none). */
  readonly jitterMs: number;
  /** The seed of its jitter (cadence.ts cadenceKey). */
  readonly key: number;
}

/** The units of one period and jitter, in the order of their offset within the period. */
interface Cadence {
  readonly periodMs: number;
  readonly jitterMs: number;
  readonly members: Int32Array;
  /** Per member: its offset within the period, and the period it starts in. */
  readonly offsets: Float64Array;
  readonly firstCycles: Float64Array;
  cycle: number;
  position: number;
  /** Data time of the event at the cursor (Infinity once past the end). */
  slotMs: number;
}

/**
 * The events of many units in data-time order, without an object per event: per cadence (a
 * period and a jitter) the units sorted by their phase, walked period by period, the few
 * cadences merged by their next event — O(1) a reading, as when all meters reported at once
 * (issue 7: 50k readings/s). With jitter, an event can overtake its neighbours by up to twice
 * the jitter: events wait in a heap until no later one can come before them.
 *
 * After `next()` returned true, `unit`, `atMs` and `cycle` (the unit's event count before this
 * one) describe the event. Events of a unit keep their order; events at the same data time come
 * in the order of the units (the order of today's bursts with `aligned`).
 */
export class ReadingSchedule {
  unit = -1;
  atMs = Number.NaN;
  cycle = -1;
  private readonly cadences: Cadence[] = [];
  private readonly jittered: boolean;
  private readonly endMs: number;
  private readonly heap = new EventHeap();
  private produced = 0;
  /** Per unit, the seed of its jitter (the units themselves are not kept: 100,000 meters). */
  private readonly keys: Uint32Array;

  constructor(
    units: readonly ScheduledUnit[],
    private readonly startMs: number,
    endMs?: number,
  ) {
    this.endMs = endMs ?? Number.POSITIVE_INFINITY;
    this.keys = Uint32Array.from(units, (unit) => unit.key);
    const byCadence = new Map<string, number[]>();
    units.forEach((unit, index) => {
      const id = `${unit.periodMs}/${unit.jitterMs}`;
      const members = byCadence.get(id);
      if (members) members.push(index);
      else byCadence.set(id, [index]);
    });
    for (const members of byCadence.values()) {
      const { periodMs, jitterMs } = units[members[0]!]!;
      // Stable: units with the same offset keep their order.
      members.sort((a, b) => (units[a]!.firstMs % periodMs) - (units[b]!.firstMs % periodMs));
      const cadence: Cadence = {
        periodMs,
        jitterMs,
        members: Int32Array.from(members),
        offsets: Float64Array.from(members, (m) => units[m]!.firstMs % periodMs),
        firstCycles: Float64Array.from(members, (m) => Math.floor(units[m]!.firstMs / periodMs)),
        cycle: 0,
        position: 0,
        slotMs: 0,
      };
      this.settle(cadence);
      this.cadences.push(cadence);
    }
    this.jittered = this.cadences.some((cadence) => cadence.jitterMs > 0);
  }

  /** Moves to the next event; false once there is none before the end. */
  next(): boolean {
    if (!this.jittered) {
      while (this.produce()) {
        if (this.atMs < this.endMs) return true;
      }
      return false;
    }
    for (;;) {
      const bound = this.earliestToCome();
      if (this.heap.size > 0 && this.heap.minMs() <= bound) {
        this.unit = this.heap.pop(this);
        return true;
      }
      if (bound === Number.POSITIVE_INFINITY || !this.produce()) return false;
      if (this.atMs < this.endMs) this.heap.push(this.atMs, this.produced, this.unit, this.cycle);
    }
  }

  /** The earliest data time an event not yet produced can have. */
  private earliestToCome(): number {
    let earliest = Number.POSITIVE_INFINITY;
    for (const cadence of this.cadences) earliest = Math.min(earliest, cadence.slotMs - cadence.jitterMs);
    return earliest;
  }

  /** The next event in the order of the unjittered slots, with its jittered time; false when none is left. */
  private produce(): boolean {
    let next: Cadence | undefined;
    for (const cadence of this.cadences) {
      // At the same data time, the units in their order (a burst community by community, as before issue 17).
      if (!next || cadence.slotMs < next.slotMs || (cadence.slotMs === next.slotMs && cadence.members[cadence.position]! < next.members[next.position]!)) next = cadence;
    }
    if (next?.slotMs === Number.POSITIVE_INFINITY) next = undefined;
    if (!next) return false;
    const unit = next.members[next.position]!;
    const cycle = next.cycle - next.firstCycles[next.position]!;
    const jitter = next.jitterMs > 0 ? jitterMs(this.keys[unit]!, cycle, next.jitterMs) : 0;
    this.unit = unit;
    this.cycle = cycle;
    this.atMs = Math.max(this.startMs, next.slotMs + jitter);
    this.produced += 1;
    next.position += 1;
    this.settle(next);
    return true;
  }

  /** Moves a cadence's cursor to its next unit that has started, and sets its slot (Infinity past the end). */
  private settle(cadence: Cadence): void {
    const { members, firstCycles } = cadence;
    for (;;) {
      if (cadence.position === members.length) {
        cadence.position = 0;
        cadence.cycle += 1;
      }
      const slotMs = this.startMs + cadence.cycle * cadence.periodMs + cadence.offsets[cadence.position]!;
      if (slotMs - cadence.jitterMs >= this.endMs) {
        cadence.slotMs = Number.POSITIVE_INFINITY;
        return;
      }
      if (firstCycles[cadence.position]! <= cadence.cycle) {
        cadence.slotMs = slotMs;
        return;
      }
      cadence.position += 1;
    }
  }
}

/** A binary min-heap of events by (data time, production order), in typed arrays. */
class EventHeap {
  size = 0;
  private times = new Float64Array(1024);
  private orders = new Float64Array(1024);
  private units = new Int32Array(1024);
  private cycles = new Float64Array(1024);

  minMs(): number {
    return this.times[0]!;
  }

  push(atMs: number, order: number, unit: number, cycle: number): void {
    if (this.size === this.times.length) this.grow();
    let i = this.size;
    this.size += 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(atMs, order, parent)) break;
      this.move(parent, i);
      i = parent;
    }
    this.set(i, atMs, order, unit, cycle);
  }

  /** Takes the first event: its time and cycle into `into`, its unit returned. */
  pop(into: { atMs: number; cycle: number }): number {
    const unit = this.units[0]!;
    into.atMs = this.times[0]!;
    into.cycle = this.cycles[0]!;
    this.size -= 1;
    const last = this.size;
    if (last > 0) {
      const [atMs, order, lastUnit, cycle] = [this.times[last]!, this.orders[last]!, this.units[last]!, this.cycles[last]!];
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= last) break;
        if (child + 1 < last && this.before(this.times[child + 1]!, this.orders[child + 1]!, child)) child += 1;
        if (!this.lessThan(child, atMs, order)) break;
        this.move(child, i);
        i = child;
      }
      this.set(i, atMs, order, lastUnit, cycle);
    }
    return unit;
  }

  /** Whether (atMs, order) comes before the event at `index`. */
  private before(atMs: number, order: number, index: number): boolean {
    const at = this.times[index]!;
    return atMs < at || (atMs === at && order < this.orders[index]!);
  }

  /** Whether the event at `index` comes before (atMs, order). */
  private lessThan(index: number, atMs: number, order: number): boolean {
    const at = this.times[index]!;
    return at < atMs || (at === atMs && this.orders[index]! < order);
  }

  private move(from: number, to: number): void {
    this.set(to, this.times[from]!, this.orders[from]!, this.units[from]!, this.cycles[from]!);
  }

  private set(index: number, atMs: number, order: number, unit: number, cycle: number): void {
    this.times[index] = atMs;
    this.orders[index] = order;
    this.units[index] = unit;
    this.cycles[index] = cycle;
  }

  private grow(): void {
    const grown = <T extends Float64Array | Int32Array>(array: T): T => {
      const bigger = new (array.constructor as new (length: number) => T)(array.length * 2);
      bigger.set(array);
      return bigger;
    };
    this.times = grown(this.times);
    this.orders = grown(this.orders);
    this.units = grown(this.units);
    this.cycles = grown(this.cycles);
  }
}

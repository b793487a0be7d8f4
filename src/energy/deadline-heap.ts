/**
 * The meters of a community by the data time at which their energy next becomes final (their
 * integrator's deadline), soonest first: a batch settles only the meters that are due, not
 * every meter of the community. A meter is pushed again whenever its deadline may have
 * changed; entries that no longer match are skipped when popped (lazy deletion).
 */
export class DeadlineHeap {
  private readonly deadlines: number[] = [];
  private readonly meters: string[] = [];

  push(deadlineMs: number, meterId: string): void {
    if (!Number.isFinite(deadlineMs)) return;
    let i = this.deadlines.length;
    this.deadlines.push(deadlineMs);
    this.meters.push(meterId);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.deadlines[parent]! <= deadlineMs) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** The meter whose deadline is at or before `watermarkMs`, soonest first, taken out; undefined when none is due. */
  popDue(watermarkMs: number): { deadlineMs: number; meterId: string } | undefined {
    if (!this.deadlines.length || this.deadlines[0]! > watermarkMs) return undefined;
    const top = { deadlineMs: this.deadlines[0]!, meterId: this.meters[0]! };
    const lastDeadline = this.deadlines.pop()!;
    const lastMeter = this.meters.pop()!;
    if (this.deadlines.length) {
      this.deadlines[0] = lastDeadline;
      this.meters[0] = lastMeter;
      for (let i = 0; ; ) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < this.deadlines.length && this.deadlines[left]! < this.deadlines[smallest]!) smallest = left;
        if (right < this.deadlines.length && this.deadlines[right]! < this.deadlines[smallest]!) smallest = right;
        if (smallest === i) break;
        this.swap(i, smallest);
        i = smallest;
      }
    }
    return top;
  }

  private swap(a: number, b: number): void {
    [this.deadlines[a], this.deadlines[b]] = [this.deadlines[b]!, this.deadlines[a]!];
    [this.meters[a], this.meters[b]] = [this.meters[b]!, this.meters[a]!];
  }
}

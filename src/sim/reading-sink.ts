/** How the simulator reaches the bus: JetStream publishes, or MQTT as a meter device. */
export const TRANSPORTS = ["jetstream", "mqtt"] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** Limits how many publishes are awaiting their acknowledgement at once (back-pressure). */
export class PublishWindow {
  private inFlight = 0;
  private readonly waiters: Array<() => void> = [];
  private readonly idle: Array<() => void> = [];

  constructor(readonly size: number) {}

  /** Takes a slot when one is free, without waiting: the common case costs no promise. */
  tryAcquire(): boolean {
    if (this.inFlight >= this.size || this.waiters.length > 0) return false;
    this.inFlight += 1;
    return true;
  }

  /** Resolves when a slot is free. */
  async acquire(): Promise<void> {
    if (this.tryAcquire()) return;
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.inFlight -= 1;
    if (this.inFlight === 0) this.idle.splice(0).forEach((resolve) => resolve());
  }

  /** Resolves when nothing is in flight. */
  async drained(): Promise<void> {
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }
}

/** Where simulated readings go: JetStream today, MQTT later. Resolves once the reading is stored. */
export interface ReadingSink {
  /** `dedupId` becomes the Nats-Msg-Id header (none for a replayed message recorded without one). */
  publish(subject: string, payload: string, dedupId: string | undefined): Promise<void>;
}

/** Limits how many publishes are awaiting their acknowledgement at once (back-pressure). */
export class PublishWindow {
  private inFlight = 0;
  private readonly waiters: Array<() => void> = [];
  private readonly idle: Array<() => void> = [];

  constructor(readonly size: number) {}

  /** Resolves when a slot is free. */
  async acquire(): Promise<void> {
    if (this.inFlight < this.size) {
      this.inFlight += 1;
      return;
    }
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

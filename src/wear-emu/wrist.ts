/**
 * The wrist a person raises from the live view (issue 19): a raise shows the watch app for one
 * glance, unless the wrist is lowered first. Pure: the caller says when.
 */

/** How long a raise keeps the app on screen: a glance, within the 5–10 s the glance pattern uses. */
export const WRIST_GLANCE_MS = 8_000;

export class Wrist {
  private raisedUntilMs: number | undefined;

  /** Raises the wrist for one glance from `atMs`, or lowers it if it is still raised. Returns whether it is raised now. */
  toggle(atMs: number): boolean {
    this.raisedUntilMs = this.isRaised(atMs) ? undefined : atMs + WRIST_GLANCE_MS;
    return this.raisedUntilMs !== undefined;
  }

  /** Whether the wrist is up at `atMs`: from the raise until the glance ends (exclusive). */
  isRaised(atMs: number): boolean {
    return this.raisedUntilMs !== undefined && atMs < this.raisedUntilMs;
  }

  /** How long the glance still lasts at `atMs`; undefined when the wrist is down. */
  remainingMs(atMs: number): number | undefined {
    return this.isRaised(atMs) ? this.raisedUntilMs! - atMs : undefined;
  }
}

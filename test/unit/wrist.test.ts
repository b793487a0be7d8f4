import { describe, expect, it } from "vitest";
import { GLANCE_MAX_MS, GLANCE_MIN_MS } from "../../src/wear-emu/glances.js";
import { WRIST_GLANCE_MS, Wrist } from "../../src/wear-emu/wrist.js";

const T = Date.UTC(2026, 10, 22, 12);

describe("the wrist a person raises", () => {
  it("a raise lasts one glance of 5–10 s, then the wrist is down again", () => {
    expect(WRIST_GLANCE_MS).toBeGreaterThanOrEqual(GLANCE_MIN_MS);
    expect(WRIST_GLANCE_MS).toBeLessThanOrEqual(GLANCE_MAX_MS);
    const wrist = new Wrist();
    expect(wrist.isRaised(T)).toBe(false);
    expect(wrist.toggle(T)).toBe(true);
    expect(wrist.isRaised(T + WRIST_GLANCE_MS - 1)).toBe(true);
    expect(wrist.remainingMs(T + 3_000)).toBe(WRIST_GLANCE_MS - 3_000);
    expect(wrist.isRaised(T + WRIST_GLANCE_MS)).toBe(false);
    expect(wrist.remainingMs(T + WRIST_GLANCE_MS)).toBeUndefined();
  });

  it("a second press within the glance lowers it; a press after the glance ended raises it anew", () => {
    const wrist = new Wrist();
    wrist.toggle(T);
    expect(wrist.toggle(T + 2_000)).toBe(false);
    expect(wrist.isRaised(T + 2_000)).toBe(false);
    expect(wrist.toggle(T + 20_000)).toBe(true);
    expect(wrist.toggle(T + 20_000 + WRIST_GLANCE_MS)).toBe(true); // the glance had ended: a new one
    expect(wrist.remainingMs(T + 20_000 + WRIST_GLANCE_MS)).toBe(WRIST_GLANCE_MS);
  });
});

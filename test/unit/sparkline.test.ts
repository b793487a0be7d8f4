import { describe, expect, it } from "vitest";
import { sparkline } from "../../src/tui/sparkline.js";

describe("sparkline", () => {
  it("scales values between their min and max onto eight bars", () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8)).toBe("▁▂▃▄▅▆▇█");
    expect(sparkline([-5000, 5000, 0], 3)).toBe("▁█▅");
  });

  it("shows only the last `width` values", () => {
    expect(sparkline([100, 0, 1, 2, 3], 4)).toBe("▁▃▆█");
  });

  it("left-pads with spaces when there are fewer values than columns", () => {
    expect(sparkline([1, 2], 5)).toBe("   ▁█");
    expect(sparkline([], 3)).toBe("   ");
  });

  it("draws a flat series as middle bars", () => {
    expect(sparkline([42, 42, 42], 3)).toBe("▄▄▄");
    expect(sparkline([7], 1)).toBe("▄");
  });

  it("is exactly `width` characters", () => {
    for (const width of [0, 1, 10, 60]) {
      expect(Array.from(sparkline([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], width))).toHaveLength(width);
    }
    expect(sparkline([1, 2, 3], -2)).toBe("");
  });

  it("leaves a gap for a missing value", () => {
    expect(sparkline([0, Number.NaN, 7], 3)).toBe("▁ █");
  });
});

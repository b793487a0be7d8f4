import { describe, expect, it } from "vitest";
import { renderSvg } from "../../src/tui/svg.js";

interface Segment {
  readonly from: readonly [number, number];
  readonly to: readonly [number, number];
  readonly sweep: string;
  readonly stroke: string;
}

/** The arc's segments: `<path d="M x y A r r 0 0 s x y" stroke="#…"/>`. */
function segments(svg: string): Segment[] {
  return [...svg.matchAll(/<path d="M ([\d.]+) ([\d.]+) A [\d.]+ [\d.]+ 0 0 ([01]) ([\d.]+) ([\d.]+)" stroke="(#[0-9A-F]{6})"\/>/g)].map((m) => ({
    from: [Number(m[1]), Number(m[2])],
    to: [Number(m[4]), Number(m[5])],
    sweep: m[3] ?? "",
    stroke: m[6] ?? "",
  }));
}

const caps = (svg: string): { x: number; y: number; fill: string }[] =>
  [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)" r="7" fill="(#[0-9A-F]{6})"\/>/g)].map((m) => ({
    x: Number(m[1]),
    y: Number(m[2]),
    fill: m[3] ?? "",
  }));

/** Whether every opened tag is closed in order (enough to catch a broken document). */
function balanced(svg: string): boolean {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (closing) {
      if (stack.pop() !== name) return false;
    } else stack.push(name ?? "");
  }
  return stack.length === 0;
}

const C = 218.5;
const R = 211.5; // stroke 14 inset inside the 437 px face

describe("renderSvg", () => {
  it("is a 437×437 SVG document with balanced tags", () => {
    const svg = renderSvg(2104, 10_000);
    expect(svg.startsWith("<svg ")).toBe(true);
    expect(svg).toContain('width="437" height="437"');
    expect(svg).toContain('viewBox="0 0 437 437"');
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(balanced(svg)).toBe(true);
  });

  it("draws a black round face", () => {
    expect(renderSvg(2104, 10_000)).toContain(`<circle cx="${C}" cy="${C}" r="${C}" fill="#000000"/>`);
  });

  it("shows |net| with two decimals in bold white, and a grey kW under it", () => {
    const svg = renderSvg(-3500, 10_000);
    expect(svg).toMatch(/<text [^>]*font-weight="bold"[^>]*fill="#FFFFFF">3\.50<\/text>/);
    expect(svg).toMatch(/<text [^>]*fill="#CCCCCC">kW<\/text>/);
    expect(renderSvg(12_345.6, 10_000)).toContain(">12.35<");
  });

  it("draws no arc at 0 W", () => {
    const svg = renderSvg(0, 10_000);
    expect(segments(svg)).toEqual([]);
    expect(caps(svg)).toEqual([]);
    expect(svg).not.toContain("<path");
    expect(svg).toContain(">0.00<");
  });

  it("starts at 12 o'clock and sweeps clockwise for a surplus, stroke 14", () => {
    const svg = renderSvg(2500, 10_000);
    const segs = segments(svg);
    expect(svg).toContain('stroke-width="14"');
    expect(segs[0]?.from).toEqual([C, 7]);
    expect(segs[0]?.to[0]).toBeGreaterThan(C);
    expect(segs.every((s) => s.sweep === "1")).toBe(true);
    // 25 % ends at 3 o'clock.
    expect(segs.at(-1)?.to).toEqual([C + R, C]);
  });

  it("sweeps counter-clockwise for a deficit", () => {
    const segs = segments(renderSvg(-2500, 10_000));
    expect(segs[0]?.from).toEqual([C, 7]);
    expect(segs[0]?.to[0]).toBeLessThan(C);
    expect(segs.every((s) => s.sweep === "0")).toBe(true);
    expect(segs.at(-1)?.to).toEqual([C - R, C]);
  });

  it("puts round caps at both ends of a partial arc", () => {
    expect(caps(renderSvg(2500, 10_000))).toEqual([
      { x: C, y: 7, fill: "#4CAF50" },
      { x: C + R, y: C, fill: "#59B55D" }, // a quarter of the way from #4CAF50 to #81C784
    ]);
    expect(caps(renderSvg(-2500, 10_000)).map((c) => [c.x, c.y])).toEqual([
      [C, 7],
      [C - R, C],
    ]);
  });

  it("approximates the sweep gradient with many short segments", () => {
    const surplus = segments(renderSvg(10_000, 10_000));
    expect(surplus.length).toBeGreaterThanOrEqual(90);
    expect(surplus[0]?.stroke).toBe("#4CAF50");
    expect(surplus.at(-1)?.stroke).toBe("#81C784");
    expect(new Set(surplus.map((s) => s.stroke)).size).toBeGreaterThan(20);
    const deficit = segments(renderSvg(-10_000, 10_000));
    expect(deficit[0]?.stroke).toBe("#E53935");
    expect(deficit.at(-1)?.stroke).toBe("#FF7043");
  });

  it("draws a full circle without caps at or above the full ring", () => {
    const svg = renderSvg(15_000, 10_000);
    expect(caps(svg)).toEqual([]);
    const segs = segments(svg);
    const first = segs[0];
    const last = segs.at(-1);
    // The last segment closes the circle (overlapping the first a little).
    expect(first?.from).toEqual([C, 7]);
    expect(last?.to[0]).toBeGreaterThan(C);
    expect(last?.to[1]).toBeCloseTo(7, 0);
    expect(svg).toContain(">15.00<");
  });
});

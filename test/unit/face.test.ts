import { describe, expect, it } from "vitest";
import { COLOR_MODES, type ColorMode } from "../../src/tui/color.js";
import {
  type FaceOptions,
  arcContains,
  dotOnArc,
  magnitudeKw,
  progressOf,
  renderFace,
  ringGeometry,
} from "../../src/tui/face.js";

// --- decoding a rendered face back into geometry -------------------------------------------

const ANSI = /\u001b\[[0-9;]*m/g;
const strip = (line: string): string => line.replace(ANSI, "");
const chars = (line: string): string[] => Array.from(strip(line));
/** The text of a line without the ring's braille dots. */
const text = (line: string | undefined): string => strip(line ?? "").replace(/[\u2800-\u28ff]/g, " ").trim();

// Dot (x, y) of a cell, in the order of the braille bits 0x01 … 0x80 (Unicode braille patterns).
const BRAILLE_DOTS: readonly (readonly [number, number])[] = [
  [0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2], [0, 3], [1, 3],
];

interface Dot {
  readonly x: number;
  readonly y: number;
}

/** Every lit braille dot of a face, in dot coordinates (2 per column, 4 per row). */
function litDots(lines: readonly string[]): Dot[] {
  const dots: Dot[] = [];
  lines.forEach((line, row) => {
    chars(line).forEach((ch, col) => {
      const code = ch.codePointAt(0) ?? 0;
      if (code < 0x2800 || code > 0x28ff) return;
      BRAILLE_DOTS.forEach(([dx, dy], bit) => {
        if ((code - 0x2800) & (1 << bit)) dots.push({ x: col * 2 + dx, y: row * 4 + dy });
      });
    });
  });
  return dots;
}

/** Where a dot is on screen, in units of a dot's width, relative to the face's centre. */
function polar(dot: Dot, cols: number, rows: number, aspect = 2): { r: number; angle: number; px: number; py: number } {
  const dotH = aspect / 2;
  const px = dot.x + 0.5 - cols; // the centre is at half of 2·cols dots
  const py = (dot.y + 0.5) * dotH - (rows * 4 * dotH) / 2;
  const deg = (Math.atan2(px, -py) * 180) / Math.PI; // clockwise from 12 o'clock
  return { r: Math.hypot(px, py), angle: (deg + 360) % 360, px, py };
}

const face = (patch: Partial<FaceOptions> & Pick<FaceOptions, "netW">): string[] =>
  renderFace({ maxW: 10_000, cols: 80, rows: 40, colorMode: "none", ...patch });

// An 80×40 face at aspect 2: 160×160 dots, square, so the ring's outer radius is 80 dots.
const COLS = 80;
const ROWS = 40;
const OUTER = 80;
const STROKE = (160 * 14) / 437; // ≈ 5.1 dots
// How far (in degrees) a round cap of radius STROKE/2 can reach past the arc's end, with a dot of slack.
const CAP_DEG = (Math.asin((STROKE / 2 + 1) / (OUTER - STROKE)) * 180) / Math.PI;

/** Lit dots of a face with their angles. */
function anglesOf(netW: number, cols = COLS, rows = ROWS): number[] {
  return litDots(face({ netW, cols, rows })).map((d) => polar(d, cols, rows).angle);
}

/** Whether every dot well inside the stroke (half a dot from its edges) between two angles is lit. */
function coversBand(netW: number, fromDeg: number, toDeg: number): boolean {
  const lit = new Set(litDots(face({ netW })).map((d) => `${d.x},${d.y}`));
  for (let x = 0; x < COLS * 2; x++) {
    for (let y = 0; y < ROWS * 4; y++) {
      const { r, angle } = polar({ x, y }, COLS, ROWS);
      if (r < OUTER - STROKE + 0.5 || r > OUTER - 0.5) continue;
      if (angle < fromDeg || angle > toDeg) continue;
      if (!lit.has(`${x},${y}`)) return false;
    }
  }
  return true;
}

const inRange = (angle: number, from: number, to: number): boolean => angle >= from && angle <= to;

describe("magnitudeKw", () => {
  it("shows |net| in kW with two decimals", () => {
    expect(magnitudeKw(2104)).toBe("2.10");
    expect(magnitudeKw(-3500)).toBe("3.50");
    expect(magnitudeKw(0)).toBe("0.00");
    expect(magnitudeKw(12_345.6)).toBe("12.35");
    expect(magnitudeKw(-4)).toBe("0.00");
  });
});

describe("progressOf", () => {
  it("is |net| over the full ring, capped at 1", () => {
    expect(progressOf(2500, 10_000)).toBe(0.25);
    expect(progressOf(-6200, 10_000)).toBeCloseTo(0.62);
    expect(progressOf(0, 10_000)).toBe(0);
    expect(progressOf(25_000, 10_000)).toBe(1);
    expect(progressOf(-10_000, 10_000)).toBe(1);
    expect(progressOf(2500, 5_000)).toBe(0.5);
  });

  it("defaults to the watch's 10 kW ring", () => {
    expect(progressOf(5000)).toBe(0.5);
  });

  it("rejects a ring of zero or negative watts", () => {
    expect(() => progressOf(1, 0)).toThrow(RangeError);
    expect(() => progressOf(1, -5)).toThrow(RangeError);
  });
});

describe("arcContains", () => {
  it("covers 12 to 3 o'clock for a 25 % surplus", () => {
    expect([0, 1, 45, 89, 90].map((a) => arcContains(a, 2500, 10_000))).toEqual([true, true, true, true, true]);
    expect([91, 180, 270, 359].map((a) => arcContains(a, 2500, 10_000))).toEqual([false, false, false, false]);
  });

  it("covers 12 to 9 o'clock, counter-clockwise, for a 25 % deficit", () => {
    expect([0, 270, 300, 359].map((a) => arcContains(a, -2500, 10_000))).toEqual([true, true, true, true]);
    expect([1, 90, 180, 269].map((a) => arcContains(a, -2500, 10_000))).toEqual([false, false, false, false]);
  });

  it("covers nothing at 0 W and everything at or above the full ring", () => {
    const angles = [0, 45, 90, 180, 270, 359.9];
    expect(angles.some((a) => arcContains(a, 0, 10_000))).toBe(false);
    expect(angles.every((a) => arcContains(a, 10_000, 10_000))).toBe(true);
    expect(angles.every((a) => arcContains(a, -30_000, 10_000))).toBe(true);
  });
});

describe("ringGeometry", () => {
  it("fits the largest circle, with the watch's 14/437 stroke", () => {
    const g = ringGeometry(80, 40);
    expect(g.outerR).toBe(80);
    expect(g.strokeW).toBeCloseTo(STROKE);
    expect([g.cx, g.cy]).toEqual([80, 80]);
  });

  it("keeps the stroke at least 2 dots wide on small faces", () => {
    expect(ringGeometry(12, 6).strokeW).toBe(2);
  });

  it("is limited by the shorter physical side", () => {
    expect(ringGeometry(100, 20).outerR).toBe(40); // 80 dots tall
    expect(ringGeometry(20, 100).outerR).toBe(20); // 40 dots wide
    expect(ringGeometry(100, 20, 1).outerR).toBe(20); // squat cells: 80 dots of half height
  });
});

describe("renderFace geometry (braille decoded back into dots)", () => {
  it("a 25 % surplus fills exactly the 12-to-3 o'clock quadrant", () => {
    const angles = anglesOf(2500);
    expect(angles.length).toBeGreaterThan(100);
    expect(angles.filter((a) => inRange(a, 90 + CAP_DEG, 360 - CAP_DEG))).toEqual([]);
    expect(coversBand(2500, 0, 90)).toBe(true);
  });

  it("a 25 % deficit fills exactly the 12-to-9 o'clock quadrant", () => {
    const angles = anglesOf(-2500);
    expect(angles.length).toBeGreaterThan(100);
    expect(angles.filter((a) => inRange(a, CAP_DEG, 270 - CAP_DEG))).toEqual([]);
    expect(coversBand(-2500, 270, 360)).toBe(true);
  });

  it("a 50 % surplus fills the right half", () => {
    const angles = anglesOf(5000);
    expect(angles.filter((a) => inRange(a, 180 + CAP_DEG, 360 - CAP_DEG))).toEqual([]);
    expect(coversBand(5000, 0, 180)).toBe(true);
  });

  it("a 62 % deficit runs counter-clockwise to about 4:30", () => {
    const angles = anglesOf(-6200);
    const end = 360 - 0.62 * 360; // 136.8°
    expect(angles.filter((a) => inRange(a, CAP_DEG, end - CAP_DEG))).toEqual([]);
    expect(coversBand(-6200, end, 360)).toBe(true);
  });

  it("0 W lights no dot at all", () => {
    expect(litDots(face({ netW: 0 }))).toEqual([]);
    expect(litDots(face({ netW: 0, cols: 12, rows: 6 }))).toEqual([]);
  });

  it("at or above the full ring, every angle is lit", () => {
    expect(coversBand(10_000, 0, 360)).toBe(true);
    expect(coversBand(-10_000, 0, 360)).toBe(true);
    expect(litDots(face({ netW: 25_000 }))).toEqual(litDots(face({ netW: 10_000 })));
    // No gap anywhere around the circle, checked per degree.
    const degrees = new Set(anglesOf(10_000).map((a) => Math.floor(a)));
    expect(degrees.size).toBe(360);
  });

  it("ends a partial arc with round caps reaching past both ends", () => {
    const angles = anglesOf(2500);
    // Start cap: past 12 o'clock towards 11; end cap: past 3 o'clock towards 4.
    expect(angles.some((a) => inRange(a, 360 - CAP_DEG, 359.99))).toBe(true);
    expect(angles.some((a) => inRange(a, 90.01, 90 + CAP_DEG))).toBe(true);
    // The end cap is a disc: no lit dot beyond the stroke's half width from its centre.
    const g = ringGeometry(COLS, ROWS);
    const capDots = litDots(face({ netW: 2500 }))
      .map((d) => polar(d, COLS, ROWS))
      .filter((p) => p.angle > 90 && p.angle < 180);
    expect(capDots.length).toBeGreaterThan(0);
    for (const p of capDots) expect(Math.hypot(p.px - g.centreR, p.py)).toBeLessThanOrEqual(g.strokeW / 2);
  });

  it("a tiny value still shows a round dot at 12 o'clock", () => {
    const dots = litDots(face({ netW: 1 })).map((d) => polar(d, COLS, ROWS));
    expect(dots.length).toBeGreaterThan(4);
    for (const p of dots) expect(Math.hypot(p.px, p.py + ringGeometry(COLS, ROWS).centreR)).toBeLessThanOrEqual(STROKE / 2 + 0.1);
  });

  it("draws the stroke 14/437 of the diameter wide", () => {
    // At 3 o'clock on a 200×100 face (diameter 400 dots) the stroke is 12.8 dots: 12 or 13 lit.
    const lines = face({ netW: 10_000, cols: 200, rows: 100 });
    const row = litDots(lines).filter((d) => d.y === 200 && d.x > 200);
    expect(row.length).toBeGreaterThanOrEqual(12);
    expect(row.length).toBeLessThanOrEqual(13);
  });

  it("keeps the stroke at least 2 dots wide on a small face", () => {
    const dots = litDots(face({ netW: 10_000, cols: 12, rows: 6 }));
    const row = dots.filter((d) => d.y === 12 && d.x >= 12);
    expect(row.length).toBeGreaterThanOrEqual(2);
  });

  it.each([
    [2, 40, 20],
    [1, 40, 10],
    [2.4, 60, 15],
  ])("is a circle on screen at cell aspect %s (%i×%i)", (aspect, cols, rows) => {
    const dots = litDots(face({ netW: 10_000, cols, rows, cellAspect: aspect })).map((d) => polar(d, cols, rows, aspect));
    const widthPx = Math.max(...dots.map((p) => p.px)) - Math.min(...dots.map((p) => p.px));
    const heightPx = Math.max(...dots.map((p) => p.py)) - Math.min(...dots.map((p) => p.py));
    expect(Math.abs(widthPx - heightPx)).toBeLessThanOrEqual(aspect);
    // As large as fits: the ring spans the shorter side.
    const shorter = Math.min(cols * 2, rows * 4 * (aspect / 2));
    expect(Math.max(widthPx, heightPx)).toBeGreaterThan(shorter - 2 * aspect);
    // Every lit dot sits on the stroke, no stray dot inside or outside the ring.
    const g = ringGeometry(cols, rows, aspect);
    for (const p of dots) expect(p.r).toBeGreaterThanOrEqual(g.outerR - g.strokeW - 1e-9);
  });

  it.each([2500, -2500, 6200, -6200, 99, 10_000])("matches dotOnArc dot for dot (%i W)", (netW) => {
    const g = ringGeometry(COLS, ROWS);
    const expected: string[] = [];
    for (let y = 0; y < ROWS * 4; y++) for (let x = 0; x < COLS * 2; x++) if (dotOnArc(g, netW, 10_000, x, y)) expected.push(`${x},${y}`);
    const got = litDots(face({ netW })).map((d) => `${d.x},${d.y}`);
    expect(got.sort()).toEqual(expected.sort());
  });

  it("draws the same ring in ASCII at cell resolution", () => {
    for (const netW of [2500, -6200, 10_000]) {
      const braille = face({ netW, cols: 40, rows: 20 }).map(chars);
      const ascii = face({ netW, cols: 40, rows: 20, ascii: true }).map(chars);
      braille.forEach((line, row) =>
        line.forEach((ch, col) => {
          const isRing = ch >= "\u2801" && ch <= "\u28ff";
          expect(ascii[row]?.[col] === "#", `cell ${col},${row} of ${netW} W`).toBe(isRing);
        }),
      );
      expect(ascii.flat().some((ch) => ch >= "\u2800" && ch <= "\u28ff")).toBe(false);
    }
  });
});

describe("renderFace layout", () => {
  const sizes = [
    [40, 20],
    [40, 18],
    [12, 6],
    [13, 7],
    [8, 3],
    [3, 1],
    [1, 1],
    [120, 40],
  ] as const;
  const values = [0, 2104, -3500, 12_345.6, -25_000];

  it("returns exactly rows lines of exactly cols visible columns in every mode", () => {
    for (const colorMode of COLOR_MODES) {
      for (const ascii of [false, true]) {
        for (const [cols, rows] of sizes) {
          for (const netW of values) {
            const lines = renderFace({ netW, maxW: 10_000, cols, rows, colorMode, ascii });
            expect(lines, `${colorMode} ${cols}×${rows} ${netW}`).toHaveLength(rows);
            for (const line of lines) expect(chars(line), `${colorMode} ${cols}×${rows} ${netW}`).toHaveLength(cols);
          }
        }
      }
    }
  });

  it("ends every coloured line with a reset", () => {
    for (const colorMode of ["truecolor", "256", "16"] as const) {
      const lines = renderFace({ netW: 6200, maxW: 10_000, cols: 40, rows: 20, colorMode });
      const coloured = lines.filter((line) => line.includes("\u001b["));
      expect(coloured.length).toBeGreaterThan(10);
      for (const line of coloured) expect(line.endsWith("\u001b[0m")).toBe(true);
    }
  });

  it("returns nothing for a zero-sized face", () => {
    expect(renderFace({ netW: 1000, maxW: 10_000, cols: 0, rows: 0, colorMode: "none" })).toEqual([]);
    expect(renderFace({ netW: 1000, maxW: 10_000, cols: 0, rows: 2, colorMode: "none" })).toEqual(["", ""]);
  });

  it("puts |net| on the middle row and kW under it, in colour", () => {
    const lines = renderFace({ netW: -3500, maxW: 10_000, cols: 40, rows: 20, colorMode: "truecolor" }).map(strip);
    expect(text(lines[9])).toBe("3.50");
    expect(text(lines[10])).toBe("kW");
    expect(lines[9]?.indexOf("3.50")).toBe(18);
  });

  it("lets sign and words carry the meaning in colour mode none", () => {
    const at = (netW: number): string[] => renderFace({ netW, maxW: 10_000, cols: 40, rows: 18, colorMode: "none" });
    expect(text(at(2104)[8])).toBe("+2.10");
    expect(text(at(2104)[9])).toBe("kW surplus");
    expect(text(at(-3500)[8])).toBe("-3.50");
    expect(text(at(-3500)[9])).toBe("kW deficit");
    expect(text(at(0)[8])).toBe("0.00");
    expect(text(at(0)[9])).toBe("kW");
  });

  it("keeps a small grid face readable: value and unit inside the ring", () => {
    const lines = renderFace({ netW: 2104, maxW: 10_000, cols: 12, rows: 6, colorMode: "truecolor" }).map(strip);
    expect(lines[2]).toContain("2.10");
    expect(lines[3]).toContain("kW");
    // The text does not cut the ring: its dots are all still there.
    const g = ringGeometry(12, 6);
    let expected = 0;
    for (let y = 0; y < 24; y++) for (let x = 0; x < 24; x++) if (dotOnArc(g, 2104, 10_000, x, y)) expected++;
    expect(litDots(lines)).toHaveLength(expected);
  });

  it("shortens the unit in mode none when the word does not fit", () => {
    const lines = renderFace({ netW: 2104, maxW: 10_000, cols: 12, rows: 6, colorMode: "none" });
    expect(text(lines[2])).toContain("+2.10");
    expect(text(lines[3])).toBe("kW");
  });

  it("shows only the value when there is no room for two lines", () => {
    for (const [cols, rows] of [
      [8, 3],
      [20, 1],
    ] as const) {
      const lines = renderFace({ netW: 2104, maxW: 10_000, cols, rows, colorMode: "truecolor" }).map(strip);
      expect(lines.join("\n")).toContain("2.10");
      expect(lines.join("\n")).not.toContain("kW");
    }
  });
});

describe("renderFace colours", () => {
  const render = (netW: number, colorMode: ColorMode): string[] =>
    renderFace({ netW, maxW: 10_000, cols: 40, rows: 20, colorMode });
  const sgrCodes = (lines: readonly string[]): string[] =>
    lines.flatMap((line) => [...line.matchAll(/\u001b\[([0-9;]*)m/g)].map((m) => m[1] ?? ""));

  it("truecolor: the surplus arc starts in #4CAF50 at 12 o'clock, the deficit arc in #E53935", () => {
    expect(render(2500, "truecolor")[0]).toContain("38;2;76;175;80m");
    expect(render(-2500, "truecolor")[0]).toContain("38;2;229;57;53m");
    expect(render(2500, "truecolor").join("")).not.toContain("38;2;229;57;53m");
  });

  it("truecolor: the start cap, reaching back past 12 o'clock, keeps the start colour", () => {
    for (const [netW, start] of [
      [2500, "38;2;76;175;80m"],
      [-2500, "38;2;229;57;53m"],
    ] as const) {
      const top = renderFace({ netW, maxW: 10_000, cols: 80, rows: 40, colorMode: "truecolor" })[0] ?? "";
      // The first and last painted cells of the top row are the cap's overhang and the arc's start.
      const colours = [...top.matchAll(/38;2;\d+;\d+;\d+m/g)].map((m) => m[0]);
      expect(colours.length).toBeGreaterThan(0);
      expect(netW > 0 ? colours[0] : colours.at(-1)).toBe(start);
    }
  });

  it("truecolor: the full ring ends near #81C784 (surplus) and #FF7043 (deficit) just before 12", () => {
    const near = (line: string | undefined, [r, g, b]: readonly number[]): boolean =>
      [...(line ?? "").matchAll(/38;2;(\d+);(\d+);(\d+)m/g)].some(
        (m) => Math.abs(Number(m[1]) - (r ?? 0)) <= 3 && Math.abs(Number(m[2]) - (g ?? 0)) <= 3 && Math.abs(Number(m[3]) - (b ?? 0)) <= 3,
      );
    expect(near(render(10_000, "truecolor")[0], [0x81, 0xc7, 0x84])).toBe(true);
    expect(near(render(-10_000, "truecolor")[0], [0xff, 0x70, 0x43])).toBe(true);
  });

  it("truecolor: bold white value and grey unit", () => {
    const lines = render(2104, "truecolor");
    expect(lines[9]).toContain("\u001b[1m\u001b[38;2;255;255;255m2.10");
    expect(lines[10]).toContain("\u001b[38;2;204;204;204mkW");
  });

  it("256 colours use the xterm palette, never 24-bit", () => {
    const lines = render(-6200, "256");
    expect(lines.join("")).toContain("\u001b[38;5;");
    expect(lines.join("")).not.toContain("38;2;");
  });

  it("16 colours use only basic codes: green for a surplus, red for a deficit", () => {
    const surplus = sgrCodes(render(10_000, "16"));
    const deficit = sgrCodes(render(-10_000, "16"));
    for (const code of [...surplus, ...deficit]) expect(["0", "1", "30", "31", "32", "33", "34", "35", "36", "37", "90", "91", "92", "93", "94", "95", "96", "97"]).toContain(code);
    expect(surplus).toContain("32");
    expect(surplus).toContain("92");
    expect(surplus.some((c) => c === "31" || c === "91")).toBe(false);
    expect(deficit).toContain("31");
    expect(deficit).toContain("91");
    expect(deficit.some((c) => c === "32" || c === "92")).toBe(false);
  });

  it("mode none has no escape at all", () => {
    for (const netW of [0, 2500, -6200, 20_000]) {
      for (const ascii of [false, true]) {
        expect(renderFace({ netW, maxW: 10_000, cols: 40, rows: 20, colorMode: "none", ascii }).join("\n")).not.toContain("\u001b");
      }
    }
  });
});

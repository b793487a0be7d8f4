// Colours of the watch face and their ANSI rendering per terminal colour mode.
// Pure: no I/O; the caller passes the environment to `detectColorMode`.
// Spec: ../shared/design.md "The watch the TUI replicates", issue 4.

export const COLOR_MODES = ["truecolor", "256", "16", "none"] as const;
export type ColorMode = (typeof COLOR_MODES)[number];

/** A colour with 0–255 integer channels. */
export interface Rgb {
  readonly r: number;
  readonly g: number;
  readonly b: number;
}

/** A two-stop gradient: `from` at t = 0, `to` at t = 1. */
export interface Gradient {
  readonly from: Rgb;
  readonly to: Rgb;
}

const HEX_PATTERN = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i;

/** Parses `#RRGGBB` (the `#` is optional); throws a RangeError on anything else. */
export function parseHex(hex: string): Rgb {
  const match = HEX_PATTERN.exec(hex.trim());
  if (!match) throw new RangeError(`not a #RRGGBB colour: ${JSON.stringify(hex)}`);
  return { r: parseInt(match[1] ?? "0", 16), g: parseInt(match[2] ?? "0", 16), b: parseInt(match[3] ?? "0", 16) };
}

/** Formats a colour as `#RRGGBB` (upper case, as the design spec writes them). */
export function toHex(c: Rgb): string {
  const part = (v: number): string => clampByte(v).toString(16).padStart(2, "0");
  return `#${part(c.r)}${part(c.g)}${part(c.b)}`.toUpperCase();
}

/** Linear interpolation between two colours, t clamped to [0, 1], channels rounded. */
export function lerpRgb(a: Rgb, b: Rgb, t: number): Rgb {
  const u = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
  return {
    r: Math.round(a.r + (b.r - a.r) * u),
    g: Math.round(a.g + (b.g - a.g) * u),
    b: Math.round(a.b + (b.b - a.b) * u),
  };
}

/** The colour of a gradient at t ∈ [0, 1]. */
export function gradientAt(gradient: Gradient, t: number): Rgb {
  return lerpRgb(gradient.from, gradient.to, t);
}

/** The watch's sweep gradient for a surplus (net > 0). */
export const SURPLUS_GRADIENT: Gradient = { from: parseHex("#4CAF50"), to: parseHex("#81C784") };
/** The watch's sweep gradient for a deficit (net < 0). */
export const DEFICIT_GRADIENT: Gradient = { from: parseHex("#E53935"), to: parseHex("#FF7043") };
/** The arc's gradient for a net power: red for a deficit, green otherwise. */
export function gradientFor(netW: number): Gradient {
  return netW < 0 ? DEFICIT_GRADIENT : SURPLUS_GRADIENT;
}
/** The centre value: bold white. */
export const VALUE_COLOR: Rgb = parseHex("#FFFFFF");
/** The unit label under the value: grey. */
export const UNIT_COLOR: Rgb = parseHex("#CCCCCC");

/** SGR bold. */
export const bold = "\u001b[1m";
/** SGR reset of every attribute. */
export const reset = "\u001b[0m";

/**
 * The SGR sequence that sets the foreground to `c` in `mode`:
 * truecolor `ESC[38;2;r;g;bm`, 256 `ESC[38;5;nm` (xterm cube or grey ramp),
 * 16 `ESC[3xm`/`ESC[9xm`, none the empty string.
 */
export function fg(c: Rgb, mode: ColorMode): string {
  switch (mode) {
    case "truecolor":
      return `\u001b[38;2;${clampByte(c.r)};${clampByte(c.g)};${clampByte(c.b)}m`;
    case "256":
      return `\u001b[38;5;${toAnsi256(c)}m`;
    case "16":
      return `\u001b[${toAnsi16(c)}m`;
    case "none":
      return "";
  }
}

// xterm's 6×6×6 cube levels (indices 16–231) and its 24-step grey ramp (232–255).
const CUBE_LEVELS = [0, 95, 135, 175, 215, 255] as const;

/** The nearest xterm-256 palette index (cube 16–231 or grey ramp 232–255) by RGB distance. */
export function toAnsi256(c: Rgb): number {
  const nearestLevel = (v: number): number => {
    let best = 0;
    for (let i = 1; i < CUBE_LEVELS.length; i++) {
      if (Math.abs((CUBE_LEVELS[i] ?? 0) - v) < Math.abs((CUBE_LEVELS[best] ?? 0) - v)) best = i;
    }
    return best;
  };
  const ri = nearestLevel(c.r);
  const gi = nearestLevel(c.g);
  const bi = nearestLevel(c.b);
  const cube: Rgb = { r: CUBE_LEVELS[ri] ?? 0, g: CUBE_LEVELS[gi] ?? 0, b: CUBE_LEVELS[bi] ?? 0 };
  const mean = (c.r + c.g + c.b) / 3;
  const greyStep = Math.min(23, Math.max(0, Math.round((mean - 8) / 10)));
  const greyLevel = 8 + 10 * greyStep;
  const grey: Rgb = { r: greyLevel, g: greyLevel, b: greyLevel };
  return distance2(c, grey) < distance2(c, cube) ? 232 + greyStep : 16 + 36 * ri + 6 * gi + bi;
}

/**
 * The nearest of the 16 basic colours as an SGR foreground code (30–37, 90–97).
 *
 * Plain RGB distance would turn the watch's muted greens into grey (#4CAF50 is closer to
 * xterm's grey 127,127,127 than to green 0,205,0), so: unsaturated colours pick a grey by
 * lightness (black 30, grey 90, white 37, bright white 97); the others pick the nearest of
 * the six hues and the bright variant when their HSL lightness is ≥ 0.6. That maps the
 * surplus gradient to green → bright green and the deficit gradient to red → bright red.
 */
export function toAnsi16(c: Rgb): number {
  const r = clampByte(c.r) / 255;
  const g = clampByte(c.g) / 255;
  const b = clampByte(c.b) / 255;
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const lightness = (max + min) / 2;
  const chroma = max - min;
  const saturation = chroma === 0 ? 0 : chroma / (1 - Math.abs(2 * lightness - 1));
  if (saturation < 0.25 || chroma < 0.12) {
    // xterm's greys: black 0, bright black 0.5, white 0.9, bright white 1.
    const greys = [
      [0, 30],
      [0.5, 90],
      [0.9, 37],
      [1, 97],
    ] as const;
    let best: (typeof greys)[number] = greys[0];
    for (const grey of greys) if (Math.abs(grey[0] - lightness) < Math.abs(best[0] - lightness)) best = grey;
    return best[1];
  }
  let hue: number;
  if (max === r) hue = 60 * (((g - b) / chroma + 6) % 6);
  else if (max === g) hue = 60 * ((b - r) / chroma + 2);
  else hue = 60 * ((r - g) / chroma + 4);
  // SGR colour order: 0 black, 1 red, 2 green, 3 yellow, 4 blue, 5 magenta, 6 cyan, 7 white.
  const HUE_TO_CODE = [1, 3, 2, 6, 4, 5] as const; // red 0°, yellow 60°, green 120°, cyan 180°, blue 240°, magenta 300°
  const code = HUE_TO_CODE[Math.round(hue / 60) % 6] ?? 7;
  return (lightness >= 0.6 ? 90 : 30) + code;
}

/**
 * The colour mode a terminal supports, from its environment:
 * `NO_COLOR` set and non-empty → none (https://no-color.org, wins over everything);
 * `FORCE_COLOR=0`/`false` → none; `FORCE_COLOR=1`/`2`/`3` → 16/256/truecolor even when not a TTY
 * (chalk's convention); not a TTY → none; `TERM=dumb` → none;
 * `COLORTERM=truecolor`/`24bit` → truecolor; `TERM` containing `256color` → 256; otherwise 16.
 */
export function detectColorMode(env: NodeJS.ProcessEnv, isTTY: boolean): ColorMode {
  if (env["NO_COLOR"] !== undefined && env["NO_COLOR"] !== "") return "none";
  const force = env["FORCE_COLOR"]?.trim().toLowerCase();
  if (force === "0" || force === "false") return "none";
  if (force === "1") return "16";
  if (force === "2") return "256";
  if (force === "3") return "truecolor";
  // FORCE_COLOR set to anything else ("", "true") forces colour without choosing a depth.
  if (!isTTY && force === undefined) return "none";
  const term = (env["TERM"] ?? "").toLowerCase();
  if (term === "dumb") return force === undefined ? "none" : "16";
  const colorterm = (env["COLORTERM"] ?? "").toLowerCase();
  if (colorterm === "truecolor" || colorterm === "24bit") return "truecolor";
  if (term.includes("256color")) return "256";
  return "16";
}

function clampByte(v: number): number {
  return Math.min(255, Math.max(0, Math.round(v)));
}

function distance2(a: Rgb, b: Rgb): number {
  return (a.r - b.r) ** 2 + (a.g - b.g) ** 2 + (a.b - b.b) ** 2;
}

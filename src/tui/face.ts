// The watch face as lines of terminal text: one arc drawn with braille dots, the value in
// the centre. Pure: (value, size, colour mode) → strings; no I/O, no ink.
// Spec: ../shared/design.md "The watch the TUI replicates", issue 4.
//
// Geometry works in physical units of one braille dot's width. A cell is 2×4 dots; with a
// cell `cellAspect` times as tall as it is wide, a dot is 1 wide and cellAspect/2 tall, so
// the ring is a circle on screen (at the default aspect 2, dots are square).

import { type ColorMode, type Rgb, UNIT_COLOR, VALUE_COLOR, bold, fg, gradientAt, gradientFor, reset } from "./color.js";

export interface FaceOptions {
  /** Net power of the community in W: > 0 surplus (clockwise), < 0 deficit (counter-clockwise). */
  readonly netW: number;
  /** The power that fills the full ring, in W (the watch: 10 000 W). Must be > 0. */
  readonly maxW: number;
  /** Width of the face in terminal columns. */
  readonly cols: number;
  /** Height of the face in terminal rows. */
  readonly rows: number;
  readonly colorMode: ColorMode;
  /** Draw the ring with `#` at cell resolution instead of braille dots. Default false. */
  readonly ascii?: boolean;
  /** Height of a terminal cell divided by its width. Default 2. */
  readonly cellAspect?: number;
}

/** The full ring of the reference watch, in W. */
export const DEFAULT_MAX_W = 10_000;
/** Terminal cells are about twice as tall as wide. */
export const DEFAULT_CELL_ASPECT = 2;
/** The reference watch: a 437 px face with a 14 px stroke. */
export const WATCH_DIAMETER = 437;
export const WATCH_STROKE = 14;
/** The thinnest stroke, in dots, that still draws a closed line. */
export const MIN_STROKE_DOTS = 2;
/** In colour mode none the sign carries the meaning; ASCII hyphen-minus, so scripts can match it. */
export const MINUS_SIGN = "-";

const BRAILLE_BASE = 0x2800;
// Bit of the braille dot at column x (0–1), row y (0–3) of a cell (Unicode braille patterns).
const BRAILLE_BITS: readonly (readonly number[])[] = [
  [0x01, 0x02, 0x04, 0x40],
  [0x08, 0x10, 0x20, 0x80],
];
const ASCII_RING = "#";

/** |net| in kW with two decimals, without sign or unit: 2104 → "2.10", -3500 → "3.50". */
export function magnitudeKw(netW: number): string {
  if (!Number.isFinite(netW)) return "-.--";
  return (Math.abs(netW) / 1000).toFixed(2);
}

/** The share of the ring the arc covers: min(|netW| / maxW, 1); 0 for a non-finite netW. */
export function progressOf(netW: number, maxW: number = DEFAULT_MAX_W): number {
  if (!(maxW > 0) || !Number.isFinite(maxW)) throw new RangeError(`maxW must be a positive number of watts, got ${maxW}`);
  if (!Number.isFinite(netW)) return 0;
  return Math.min(Math.abs(netW) / maxW, 1);
}

/** Normalises degrees into [0, 360). */
function normDeg(deg: number): number {
  const d = deg % 360;
  return d < 0 ? d + 360 : d;
}

/**
 * The angle of a point in the arc's own direction, in degrees [0, 360) from 12 o'clock:
 * clockwise for a surplus, counter-clockwise for a deficit.
 */
export function sweepAngleOf(angleFromTwelveClockwise: number, netW: number): number {
  return netW < 0 ? normDeg(-angleFromTwelveClockwise) : normDeg(angleFromTwelveClockwise);
}

/**
 * Whether the arc (without its caps) covers the direction `angleFromTwelveClockwise`
 * (degrees, 0 = 12 o'clock, 90 = 3 o'clock). 0 W covers nothing, ≥ maxW everything.
 */
export function arcContains(angleFromTwelveClockwise: number, netW: number, maxW: number = DEFAULT_MAX_W): boolean {
  const progress = progressOf(netW, maxW);
  if (progress <= 0) return false;
  if (progress >= 1) return true;
  return sweepAngleOf(angleFromTwelveClockwise, netW) <= progress * 360;
}

/** Angle of the offset (dx right, dy down) from the centre, degrees clockwise from 12 o'clock. */
export function angleFromTwelve(dx: number, dy: number): number {
  return normDeg((Math.atan2(dx, -dy) * 180) / Math.PI);
}

/** Where the ring sits in a face, in physical units of one dot's width. */
export interface RingGeometry {
  /** Braille dots across and down the face (2 per column, 4 per row). */
  readonly dotsX: number;
  readonly dotsY: number;
  /** Physical height of one dot (cellAspect / 2). */
  readonly dotHeight: number;
  /** Centre of the face. */
  readonly cx: number;
  readonly cy: number;
  /** Outer edge of the stroke: half the largest circle that fits. */
  readonly outerR: number;
  /** Stroke width: 14/437 of the diameter, at least MIN_STROKE_DOTS. */
  readonly strokeW: number;
  /** Radius of the stroke's centre line (where the caps are centred). */
  readonly centreR: number;
}

/** The ring of a `cols`×`rows` face: centred, as large as fits, stroke inset like the watch's. */
export function ringGeometry(cols: number, rows: number, cellAspect: number = DEFAULT_CELL_ASPECT): RingGeometry {
  const aspect = cellAspect > 0 && Number.isFinite(cellAspect) ? cellAspect : DEFAULT_CELL_ASPECT;
  const dotsX = Math.max(0, Math.floor(cols)) * 2;
  const dotsY = Math.max(0, Math.floor(rows)) * 4;
  const dotHeight = aspect / 2;
  const width = dotsX;
  const height = dotsY * dotHeight;
  const diameter = Math.min(width, height);
  const outerR = diameter / 2;
  const strokeW = Math.min(outerR, Math.max(MIN_STROKE_DOTS, (diameter * WATCH_STROKE) / WATCH_DIAMETER));
  return { dotsX, dotsY, dotHeight, cx: width / 2, cy: height / 2, outerR, strokeW, centreR: outerR - strokeW / 2 };
}

/** Physical centre of dot (x, y) of the braille grid. */
export function dotCentre(geometry: RingGeometry, x: number, y: number): { readonly px: number; readonly py: number } {
  return { px: x + 0.5, py: (y + 0.5) * geometry.dotHeight };
}

/** An arc in a ring: everything per frame that does not depend on the point tested. */
interface ArcShape {
  readonly geometry: RingGeometry;
  readonly netW: number;
  readonly progress: number;
  readonly outerR2: number;
  readonly innerR2: number;
  readonly capR2: number;
  /** Offsets of the end cap's centre from the face's centre. */
  readonly endX: number;
  readonly endY: number;
}

function arcShape(geometry: RingGeometry, netW: number, maxW: number): ArcShape {
  const progress = progressOf(netW, maxW);
  const end = (netW < 0 ? -1 : 1) * progress * 2 * Math.PI;
  return {
    geometry,
    netW,
    progress,
    outerR2: geometry.outerR ** 2,
    innerR2: Math.max(0, geometry.outerR - geometry.strokeW) ** 2,
    capR2: (geometry.strokeW / 2) ** 2,
    endX: geometry.centreR * Math.sin(end),
    endY: -geometry.centreR * Math.cos(end),
  };
}

function shapeContains(shape: ArcShape, px: number, py: number): boolean {
  const { geometry, progress } = shape;
  if (progress <= 0) return false;
  const dx = px - geometry.cx;
  const dy = py - geometry.cy;
  const r2 = dx * dx + dy * dy;
  if (r2 > shape.outerR2 || r2 < shape.innerR2) return false;
  if (progress >= 1) return true;
  if (sweepAngleOf(angleFromTwelve(dx, dy), shape.netW) <= progress * 360) return true;
  // Round caps: at 12 o'clock, and where the sweep stops.
  if (dx ** 2 + (dy + geometry.centreR) ** 2 <= shape.capR2) return true;
  return (dx - shape.endX) ** 2 + (dy - shape.endY) ** 2 <= shape.capR2;
}

/**
 * Whether the physical point (px, py) is painted: on the stroke within the arc's angle, or
 * inside one of the round caps (discs of the stroke's width centred on the stroke's centre
 * line at both ends of a partial arc).
 */
export function pointOnArc(geometry: RingGeometry, netW: number, maxW: number, px: number, py: number): boolean {
  return shapeContains(arcShape(geometry, netW, maxW), px, py);
}

/** Whether braille dot (x, y) of the face is lit. */
export function dotOnArc(geometry: RingGeometry, netW: number, maxW: number, x: number, y: number): boolean {
  const { px, py } = dotCentre(geometry, x, y);
  return pointOnArc(geometry, netW, maxW, px, py);
}

/**
 * Gradient position of a painted point: the angle in the sweep direction as a fraction of
 * the full circle (the watch's sweep gradient), so the start colour sits at 12 o'clock.
 * Cap overhang keeps the colour of the end it belongs to.
 */
function gradientT(geometry: RingGeometry, netW: number, progress: number, px: number, py: number): number {
  const sweep = sweepAngleOf(angleFromTwelve(px - geometry.cx, py - geometry.cy), netW);
  if (progress >= 1) return sweep / 360;
  const end = progress * 360;
  if (sweep <= end) return sweep / 360;
  return sweep - end < 360 - sweep ? progress : 0;
}

interface Cell {
  readonly ch: string;
  readonly color: Rgb;
  readonly bold: boolean;
}

/** A row of the face: painted cells only, blanks are holes (most of a face is blank). */
type Row = (Cell | undefined)[];

/**
 * The face as exactly `rows` strings of exactly `cols` visible columns. Coloured lines end
 * with an SGR reset; colour mode none emits no escape sequence at all.
 */
export function renderFace(o: FaceOptions): string[] {
  const cols = Math.max(0, Math.floor(o.cols));
  const rows = Math.max(0, Math.floor(o.rows));
  const geometry = ringGeometry(cols, rows, o.cellAspect);
  const progress = progressOf(o.netW, o.maxW);
  const grid: Row[] = [];
  for (let row = 0; row < rows; row++) grid.push(new Array<Cell | undefined>(cols));
  if (progress > 0) paintRing(grid, cols, geometry, arcShape(geometry, o.netW, o.maxW), o.ascii === true);
  placeCentreText(grid, cols, geometry, o);
  return grid.map((line) => serialise(line, cols, o.colorMode));
}

function paintRing(grid: Row[], cols: number, geometry: RingGeometry, shape: ArcShape, ascii: boolean): void {
  const gradient = gradientFor(shape.netW);
  const cellH = 4 * geometry.dotHeight;
  const { cx, cy } = geometry;
  grid.forEach((line, row) => {
    const y0 = row * cellH;
    const nearY = Math.max(y0, Math.min(cy, y0 + cellH)) - cy;
    const farY = Math.max(Math.abs(y0 - cy), Math.abs(y0 + cellH - cy));
    if (nearY * nearY > shape.outerR2) return;
    // Only the columns that can touch the annulus on this row: its outer chord minus the hole.
    const half = Math.sqrt(shape.outerR2 - nearY * nearY);
    const hole = farY * farY < shape.innerR2 ? Math.sqrt(shape.innerR2 - farY * farY) : 0;
    const first = Math.max(0, Math.floor((cx - half) / 2));
    const last = Math.min(cols - 1, Math.floor((cx + half) / 2));
    for (let col = first; col <= last; col++) {
      const x0 = col * 2;
      if (x0 >= cx - hole && x0 + 2 <= cx + hole) continue;
      let bits = 0;
      for (let dx = 0; dx < 2; dx++) {
        for (let dy = 0; dy < 4; dy++) {
          if (shapeContains(shape, x0 + dx + 0.5, (row * 4 + dy + 0.5) * geometry.dotHeight)) bits |= BRAILLE_BITS[dx]?.[dy] ?? 0;
        }
      }
      if (bits === 0) continue;
      line[col] = {
        ch: ascii ? ASCII_RING : String.fromCodePoint(BRAILLE_BASE + bits),
        color: gradientAt(gradient, gradientT(geometry, shape.netW, shape.progress, x0 + 1, y0 + cellH / 2)),
        bold: false,
      };
    }
  });
}

/** The value and unit lines; in colour mode none the sign and a word carry what colour would. */
function centreTexts(netW: number, mode: ColorMode): { value: string; units: readonly string[] } {
  const value = magnitudeKw(netW);
  if (mode !== "none") return { value, units: ["kW"] };
  if (netW > 0) return { value: `+${value}`, units: ["kW surplus", "kW"] };
  if (netW < 0) return { value: `${MINUS_SIGN}${value}`, units: ["kW deficit", "kW"] };
  return { value, units: ["kW"] };
}

function placeCentreText(grid: Row[], cols: number, geometry: RingGeometry, o: FaceOptions): void {
  const rows = grid.length;
  if (rows === 0 || cols === 0) return;
  const { value, units } = centreTexts(o.netW, o.colorMode);
  const valueRow = Math.floor((rows - 1) / 2);
  const cellH = 4 * geometry.dotHeight;
  const inner = geometry.outerR - geometry.strokeW;
  // A line fits when every corner of its cells lies inside the stroke's inner edge.
  const fits = (row: number, text: string): boolean => {
    if (row < 0 || row >= rows || text.length > cols) return false;
    const c0 = Math.floor((cols - text.length) / 2);
    const farX = Math.max(Math.abs(c0 * 2 - geometry.cx), Math.abs((c0 + text.length) * 2 - geometry.cx));
    const farY = Math.max(Math.abs(row * cellH - geometry.cy), Math.abs((row + 1) * cellH - geometry.cy));
    return Math.hypot(farX, farY) <= inner;
  };
  const write = (row: number, text: string, color: Rgb, isBold: boolean): void => {
    const line = grid[row];
    if (!line) return;
    const shown = text.slice(0, cols);
    const c0 = Math.floor((cols - shown.length) / 2);
    for (let i = 0; i < shown.length; i++) line[c0 + i] = { ch: shown[i] ?? " ", color, bold: isBold };
  };
  // The value always shows (clipped on a face too small for it); the unit only with room to spare.
  write(valueRow, value, VALUE_COLOR, true);
  const unit = units.find((candidate) => fits(valueRow + 1, candidate));
  if (unit !== undefined) write(valueRow + 1, unit, UNIT_COLOR, false);
}

function serialise(line: Row, cols: number, mode: ColorMode): string {
  let out = "";
  let style = "";
  let styleBold = false;
  for (let col = 0; col < cols; col++) {
    const cell = line[col];
    if (cell === undefined) {
      out += " ";
      continue;
    }
    // A space shows no foreground: keep the current style instead of switching.
    if (mode !== "none" && cell.ch !== " ") {
      const next = (cell.bold ? bold : "") + fg(cell.color, mode);
      if (next !== style) {
        out += (styleBold && !cell.bold ? reset : "") + next;
        style = next;
        styleBold = cell.bold;
      }
    }
    out += cell.ch;
  }
  return style === "" ? out : out + reset;
}

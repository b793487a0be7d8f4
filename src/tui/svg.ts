// The watch face as a 437×437 SVG, for docs and bug reports (`ecwatch monitor --svg`).
// Pure: returns the document; the command writes it. Spec: ../shared/design.md, issue 4.

import { UNIT_COLOR, VALUE_COLOR, gradientAt, gradientFor, toHex } from "./color.js";
import { WATCH_DIAMETER, WATCH_STROKE, magnitudeKw, progressOf } from "./face.js";

/**
 * SVG has no sweep gradient: the arc is drawn as short segments (at most this many degrees
 * each) coloured at their middle; 2° keeps the steps invisible at 437 px.
 */
const SEGMENT_DEG = 2;
/** Segments overlap by this much so anti-aliasing leaves no hairline seams between them. */
const OVERLAP_DEG = 0.3;

const round2 = (v: number): string => String(Math.round(v * 100) / 100);

/** The face: black disc, one arc (stroke 14, round caps, from 12 o'clock), |net| kW in the centre. */
export function renderSvg(netW: number, maxW: number): string {
  const size = WATCH_DIAMETER;
  const c = size / 2;
  // Like the watch's drawArc: the stroke sits inside the face, inset by half its width.
  const r = c - WATCH_STROKE / 2;
  const progress = progressOf(netW, maxW);
  const direction = netW < 0 ? -1 : 1;
  const gradient = gradientFor(netW);
  const point = (deg: number): string => {
    const rad = (direction * deg * Math.PI) / 180;
    return `${round2(c + r * Math.sin(rad))} ${round2(c - r * Math.cos(rad))}`;
  };

  const arc: string[] = [];
  if (progress > 0) {
    const sweep = progress * 360;
    const count = Math.max(1, Math.ceil(sweep / SEGMENT_DEG));
    const step = sweep / count;
    const full = progress >= 1;
    // A round cap under the start, drawn first so the first segment covers its seam.
    if (!full) arc.push(`<circle cx="${round2(c)}" cy="${round2(c - r)}" r="${WATCH_STROKE / 2}" fill="${toHex(gradient.from)}"/>`);
    for (let i = 0; i < count; i++) {
      const from = i * step;
      // Overlap the next segment, except past the end of a partial arc (its cap covers that).
      const to = Math.min((i + 1) * step + OVERLAP_DEG, full ? 360 + OVERLAP_DEG : sweep);
      // The watch's sweep gradient: t is the angle as a fraction of the full circle.
      const color = toHex(gradientAt(gradient, (from + step / 2) / 360));
      const sweepFlag = direction > 0 ? 1 : 0;
      arc.push(
        `<path d="M ${point(from)} A ${round2(r)} ${round2(r)} 0 0 ${sweepFlag} ${point(to)}" stroke="${color}"/>`,
      );
    }
    if (!full) {
      const [ex, ey] = point(sweep).split(" ");
      arc.push(`<circle cx="${ex}" cy="${ey}" r="${WATCH_STROKE / 2}" fill="${toHex(gradientAt(gradient, progress))}"/>`);
    }
  }

  const label = netW > 0 ? "surplus" : netW < 0 ? "deficit" : "balanced";
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}" role="img" aria-label="${magnitudeKw(netW)} kW ${label}">`,
    `<circle cx="${round2(c)}" cy="${round2(c)}" r="${round2(c)}" fill="#000000"/>`,
    ...(arc.length > 0 ? [`<g class="arc" fill="none" stroke-width="${WATCH_STROKE}" stroke-linecap="butt">`, ...arc, `</g>`] : []),
    `<text x="${round2(c)}" y="${round2(c)}" text-anchor="middle" dominant-baseline="middle" font-family="sans-serif" font-size="72" font-weight="bold" fill="${toHex(VALUE_COLOR)}">${magnitudeKw(netW)}</text>`,
    `<text x="${round2(c)}" y="${round2(c + 64)}" text-anchor="middle" dominant-baseline="middle" font-family="sans-serif" font-size="32" fill="${toHex(UNIT_COLOR)}">kW</text>`,
    `</svg>`,
    "",
  ].join("\n");
}

import { formatKw } from "../domain/format-power.js";
import { type ColorMode, DEFICIT_GRADIENT, SURPLUS_GRADIENT, UNIT_COLOR, type Rgb, fg, reset } from "./color.js";
import { type CommunityView, type DisplayState, displayState, formatAge } from "./monitor-model.js";
import { sparkline } from "./sparkline.js";

/** Text in a colour of the watch, or as it is when colours are off. */
export function paint(text: string, color: Rgb, mode: ColorMode): string {
  return mode === "none" ? text : `${fg(color, mode)}${text}${reset}`;
}

const STATE_COLORS: Record<DisplayState, Rgb> = {
  connecting: UNIT_COLOR,
  live: SURPLUS_GRADIENT.from,
  reconnecting: { r: 0xff, g: 0xb3, b: 0x00 },
  stale: { r: 0xff, g: 0xb3, b: 0x00 },
  failed: DEFICIT_GRADIENT.from,
};

const STATE_LABELS: Record<DisplayState, string> = {
  connecting: "○ connecting…",
  live: "● live",
  reconnecting: "○ reconnecting…",
  stale: "◌ stale",
  failed: "✖ the API refused the stream",
};

export function stateLabel(state: DisplayState, mode: ColorMode): string {
  return paint(STATE_LABELS[state], STATE_COLORS[state], mode);
}

/**
 * The lines under the ring: generation, consumption and the balance; the age of the
 * reading and its state; a sparkline of net power over the last minutes.
 */
export function detailLines(view: CommunityView, nowMs: number, mode: ColorMode, width: number): string[] {
  const aggregate = view.aggregate;
  if (!aggregate) return ["no reading yet", stateLabel(displayState(view, nowMs), mode)];
  const surplus = aggregate.netW >= 0;
  const balance = paint(`${surplus ? "surplus" : "deficit"} ${formatKw(Math.abs(aggregate.netW))}`, surplus ? SURPLUS_GRADIENT.from : DEFICIT_GRADIENT.from, mode);
  const aggregatedAt = Date.parse(aggregate.aggregatedAt);
  const age = Number.isFinite(aggregatedAt) ? `updated ${formatAge(nowMs - aggregatedAt)} ago` : "";
  const meters = `${aggregate.meters} meters${aggregate.stale ? `, ${aggregate.stale} stale` : ""}`;
  const history = view.history.map((point) => point.netW);
  const sparkWidth = Math.max(8, Math.min(60, width - 16));
  return [
    `gen ${formatKw(aggregate.genW)}   con ${formatKw(aggregate.conW)}   ${balance}`,
    `${stateLabel(displayState(view, nowMs), mode)}   ${age}   ${meters}`,
    `net, 5 min ${paint(sparkline(history, sparkWidth), surplus ? SURPLUS_GRADIENT.to : DEFICIT_GRADIENT.to, mode)}`,
  ];
}

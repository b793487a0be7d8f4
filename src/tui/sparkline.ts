// A one-line chart of recent values (the monitor's last minutes of net power). Pure.

export const SPARK_BARS = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"] as const;
/** A flat series sits in the middle rather than on the floor or the ceiling. */
const FLAT_BAR = SPARK_BARS[3];

/**
 * The last `width` values as exactly `width` bar characters, scaled between their own min
 * and max; left-padded with spaces when there are fewer values. Non-finite values are gaps.
 */
export function sparkline(values: readonly number[], width: number): string {
  const w = Number.isFinite(width) ? Math.max(0, Math.floor(width)) : 0;
  if (w === 0) return "";
  const shown = values.slice(-w);
  const finite = shown.filter((v) => Number.isFinite(v));
  const min = finite.length > 0 ? Math.min(...finite) : 0;
  const max = finite.length > 0 ? Math.max(...finite) : 0;
  const span = max - min;
  const bars = shown.map((v) => {
    if (!Number.isFinite(v)) return " ";
    if (span === 0) return FLAT_BAR;
    const index = Math.round(((v - min) / span) * (SPARK_BARS.length - 1));
    return SPARK_BARS[index] ?? FLAT_BAR;
  });
  return " ".repeat(w - shown.length) + bars.join("");
}

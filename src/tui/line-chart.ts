/**
 * A line chart of text, drawn with box-drawing characters in the manner of asciichart
 * (github.com/kroitor/asciichart), written here because it is ≈ 60 lines: a y axis with
 * labels, one line per series, several series on the same axes. Pure: returns lines; the
 * caller colours each series (or not: NO_COLOR).
 */

export interface LineChartOptions {
  /** Rows of the plot. */
  readonly height: number;
  /** Columns of the plot at most: longer series are averaged down to it. */
  readonly width: number;
  /** Formats an axis label. */
  readonly format?: (value: number) => string;
  /** Colours the characters of series i (default: none). */
  readonly paint?: (seriesIndex: number, text: string) => string;
}

/** A series averaged into at most `width` columns (each column the mean of its points). */
export function resample(values: readonly number[], width: number): number[] {
  if (values.length <= width) return [...values];
  const columns: number[] = [];
  for (let column = 0; column < width; column += 1) {
    const from = Math.floor((column * values.length) / width);
    const to = Math.max(from + 1, Math.floor(((column + 1) * values.length) / width));
    let sum = 0;
    for (let i = from; i < to; i += 1) sum += values[i]!;
    columns.push(sum / (to - from));
  }
  return columns;
}

export function lineChart(series: ReadonlyArray<readonly number[]>, options: LineChartOptions): string[] {
  const columns = series.map((values) => resample(values, options.width));
  const all = columns.flat().filter(Number.isFinite);
  if (!all.length) return [];
  const format = options.format ?? ((value: number) => value.toFixed(1));
  const paint = options.paint ?? ((_: number, text: string) => text);
  let min = Math.min(...all);
  let max = Math.max(...all);
  if (min === max) max = min + 1;
  const rows = Math.max(1, options.height - 1);
  const row = (value: number) => Math.round(((value - min) / (max - min)) * rows);
  const labels = Array.from({ length: rows + 1 }, (_, y) => format(min + ((max - min) * y) / rows));
  const labelWidth = Math.max(...labels.map((label) => label.length));
  const length = Math.max(...columns.map((values) => values.length));
  // grid[y][x]: y = 0 is the bottom row; each cell a character and the series that drew it.
  const grid = Array.from({ length: rows + 1 }, () => Array.from({ length }, () => ({ char: " ", series: -1 })));
  const put = (y: number, x: number, char: string, index: number) => {
    grid[y]![x] = { char, series: index };
  };
  columns.forEach((values, index) => {
    for (let x = 0; x < values.length; x += 1) {
      const y = row(values[x]!);
      const next = x + 1 < values.length ? row(values[x + 1]!) : undefined;
      if (x === 0) put(y, x, "─", index);
      if (next === undefined) continue;
      if (next === y) {
        put(y, x + 1, "─", index);
        continue;
      }
      // A step from y to next between columns x and x+1: ╮/╯ where it leaves, ╰/╭ where it lands.
      put(y, x + 1, next > y ? "╯" : "╮", index);
      put(next, x + 1, next > y ? "╭" : "╰", index);
      for (let between = Math.min(y, next) + 1; between < Math.max(y, next); between += 1) put(between, x + 1, "│", index);
    }
  });
  const lines: string[] = [];
  for (let y = rows; y >= 0; y -= 1) {
    let text = "";
    for (const cell of grid[y]!) text += cell.series < 0 ? cell.char : paint(cell.series, cell.char);
    lines.push(`${labels[y]!.padStart(labelWidth)} ┤${text}`);
  }
  return lines;
}

/** Watts as kW with two decimals, e.g. `+2.10 kW`. */
export function formatKw(watts: number, signed = false): string {
  const kw = (watts / 1000).toFixed(2);
  return `${signed && watts > 0 ? "+" : ""}${kw} kW`;
}

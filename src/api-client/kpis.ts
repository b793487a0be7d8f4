/** The part of a GET /communities/{id}/kpis answer the callers use: energy in Wh, fractions 0…1 or null. */
export interface Kpis {
  readonly genWh: number;
  readonly conWh: number;
  readonly selfSufficiency: number | null;
  readonly selfConsumption: number | null;
}

function isFraction(value: unknown): value is number | null {
  return value === null || (typeof value === "number" && Number.isFinite(value));
}

/** The fields of a /kpis answer, or undefined when it is not one. */
export function kpisFromJson(body: unknown): Kpis | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { genWh, conWh, selfSufficiency, selfConsumption } = body as Record<string, unknown>;
  if (typeof genWh !== "number" || !Number.isFinite(genWh) || typeof conWh !== "number" || !Number.isFinite(conWh)) return undefined;
  if (!isFraction(selfSufficiency) || !isFraction(selfConsumption)) return undefined;
  return { genWh, conWh, selfSufficiency, selfConsumption };
}

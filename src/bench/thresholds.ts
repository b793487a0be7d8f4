/**
 * Pass/fail criteria of the user's own, as k6 has them (issue 20): `--threshold 'e2e.p99<250ms'`.
 * Pure: parsing an expression and judging a measured value, no I/O.
 */

export const OPERATORS = ["<=", ">=", "==", "!=", "<", ">"] as const;
export type Operator = (typeof OPERATORS)[number];

/** What a metric measures decides the units it accepts; the first is the one it is measured in. */
const UNITS = {
  count: [""],
  flag: [""],
  rate: [""],
  ratio: [""],
  latency: ["ms", "s"],
  cpu: ["%"],
  rss: ["MB"],
} as const;
export type MetricKind = keyof typeof UNITS;

/** Units a limit may be written in, and what one of each is in the metric's own unit. */
const UNIT_SCALE: Readonly<Record<string, number>> = { "": 1, ms: 1, s: 1_000, "%": 1, MB: 1 };

/** The processes a `cpu.<p>` or `rss.<p>` threshold names: `processes[].key` of the report. */
export const PROCESS_KEYS = ["aggregator", "api", "nats", "redis", "bench"] as const;
export type ProcessKey = (typeof PROCESS_KEYS)[number];

/** Every metric a threshold can name, with its kind (the table). */
export const METRICS: Readonly<Record<string, MetricKind>> = {
  lost: "count",
  totals: "flag",
  behind: "count",
  rate: "rate",
  ratio: "ratio",
  "e2e.p50": "latency",
  "e2e.p90": "latency",
  "e2e.p99": "latency",
  "e2e.p999": "latency",
  "e2e.max": "latency",
  "sse.p50": "latency",
  "sse.p99": "latency",
  ...Object.fromEntries(PROCESS_KEYS.flatMap((p) => [[`cpu.${p}`, "cpu"], [`rss.${p}`, "rss"]])),
};
export type Metric = keyof typeof METRICS;

export interface Threshold {
  /** As the user wrote it, trimmed: what ✓/✗ lines and JUnit test cases are named after. */
  readonly expression: string;
  readonly metric: Metric;
  readonly operator: Operator;
  /** The limit in the metric's own unit (ms, %, MB, readings/s, a count). */
  readonly limit: number;
}

/** A bad threshold expression: a usage error (exit code 2) at the command. */
export class ThresholdError extends Error {}

const EXPRESSION = /^([a-z0-9.]+)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*(ms|s|%|MB)?$/;

/** The sentence that lists the valid metrics, for every error that names a wrong one. */
export const VALID_METRICS = `Valid metrics: ${Object.keys(METRICS).join(", ")}.`;

/** Parses `<metric><op><value>[unit]`, e.g. `e2e.p99<250ms`, `lost==0`, `cpu.aggregator<80%`, `rss.api<=200MB`. */
export function parseThreshold(text: string): Threshold {
  const expression = text.trim();
  const match = EXPRESSION.exec(expression);
  if (!match) {
    // What comes before the operator is what the user meant as the metric (k6's `p(95)` too).
    const metric = /^[^<>=!\s]+/.exec(expression)?.[0];
    if (metric && !(metric in METRICS)) throw new ThresholdError(`"${expression}": no metric "${metric}". ${VALID_METRICS}`);
    throw new ThresholdError(`"${expression}" is not a threshold: write <metric><op><value>, e.g. e2e.p99<250ms or lost==0, with op one of ${OPERATORS.join(" ")}. ${VALID_METRICS}`);
  }
  const [, metric, operator, value, unit = ""] = match as unknown as [string, string, Operator, string, string | undefined];
  const kind = METRICS[metric];
  if (kind === undefined) throw new ThresholdError(`"${expression}": no metric "${metric}". ${VALID_METRICS}`);
  const units: readonly string[] = UNITS[kind];
  // A latency without a unit is in ms; a CPU share or an RSS may leave out their % and MB.
  if (unit !== "" && !units.includes(unit)) {
    throw new ThresholdError(`"${expression}": ${metric} takes ${units.filter(Boolean).length ? units.filter(Boolean).join(" or ") : "no unit"}, not ${unit}.`);
  }
  return { expression, metric, operator, limit: Number(value) * UNIT_SCALE[unit]! };
}

/** Whether `measured` meets the threshold. */
export function meets(threshold: Pick<Threshold, "operator" | "limit">, measured: number): boolean {
  const { limit } = threshold;
  switch (threshold.operator) {
    case "<":
      return measured < limit;
    case "<=":
      return measured <= limit;
    case ">":
      return measured > limit;
    case ">=":
      return measured >= limit;
    case "==":
      return measured === limit;
    case "!=":
      return measured !== limit;
  }
}

/** The unit a metric's values are shown in. */
export function unitOf(metric: Metric): string {
  return UNITS[METRICS[metric]!][0];
}

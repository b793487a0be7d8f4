import { parseDuration } from "../domain/duration.js";
import { type Random, hashString, seededRandom } from "./random.js";

/**
 * Faults the simulator injects, the way real meters break a pipeline. Probabilities are
 * per reading, except `offline` (per simulated minute of a meter).
 */
export interface FaultSpec {
  /** A reading is lost on the way. */
  readonly dropout: number;
  /** A reading is sent twice; the copy gets its own de-duplication id, so it reaches the aggregator. */
  readonly duplicate: number;
  /** A reading is held back and sent after the meter's next one. */
  readonly reorder: number;
  /** Largest clock error of a meter, in ms: each meter's measuredAt is off by a fixed amount within ±skew. */
  readonly skewMs: number;
  /** A reading is replaced by a malformed message (bad JSON, a negative or missing field, a wrong id). */
  readonly malformed: number;
  /** Per simulated minute: the meter goes silent for 1–10 minutes. */
  readonly offline: number;
}

export const NO_FAULTS: FaultSpec = { dropout: 0, duplicate: 0, reorder: 0, skewMs: 0, malformed: 0, offline: 0 };

const PROBABILITIES = ["dropout", "duplicate", "reorder", "malformed", "offline"] as const;

/** Parses `dropout=0.01,duplicate=0.01,skew=2s,…`; throws an Error naming the bad part. */
export function parseFaults(text: string): FaultSpec {
  const spec: { -readonly [K in keyof FaultSpec]: number } = { ...NO_FAULTS };
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const [name, value, ...rest] = part.split("=");
    if (value === undefined || rest.length) throw new Error(`"${part}" is not name=value`);
    if (name === "skew") {
      const ms = parseDuration(value);
      if (ms === undefined) throw new Error(`skew must be a duration like 2s, not "${value}"`);
      spec.skewMs = ms;
      continue;
    }
    if (!(PROBABILITIES as readonly string[]).includes(name ?? "")) {
      throw new Error(`unknown fault "${name}"; known: ${[...PROBABILITIES, "skew"].join(", ")}`);
    }
    const probability = Number(value);
    if (!/^\d*\.?\d+(e-?\d+)?$/i.test(value) || !(probability >= 0 && probability <= 1)) {
      throw new Error(`${name} must be a probability from 0 to 1, not "${value}"`);
    }
    spec[name as (typeof PROBABILITIES)[number]] = probability;
  }
  return spec;
}

export interface FaultCounts {
  dropout: number;
  duplicate: number;
  reorder: number;
  malformed: number;
  /** Times a meter went silent. */
  offline: number;
  /** Readings not sent because their meter was silent. */
  offlineReadings: number;
}

/** A meter's reading on its way out, before it is serialised. */
export interface MeterEmission {
  readonly communityId: string;
  readonly meterId: string;
  readonly measuredAtMs: number;
  readonly seq: number;
}

/**
 * What to send for one reading, in order: `copy` marks the duplicate, `hold` a reading to
 * send only after the meter's next one, `malformed` a broken message instead of the reading.
 */
export type Decision =
  | { readonly kind: "send"; readonly measuredAtMs: number; readonly copy?: boolean; readonly hold?: boolean }
  | { readonly kind: "malformed"; readonly variant: number };

/**
 * Decides, reading by reading, which faults strike. Pure apart from its own seeded random
 * stream, so the same seed gives the same faults.
 */
export class FaultInjector {
  readonly counts: FaultCounts = { dropout: 0, duplicate: 0, reorder: 0, malformed: 0, offline: 0, offlineReadings: 0 };
  private readonly random: Random;
  private readonly offlineUntil = new Map<string, number>();
  private readonly skewOf = new Map<string, number>();

  constructor(
    readonly spec: FaultSpec,
    seed: number,
  ) {
    this.random = seededRandom(seed ^ hashString("faults"));
  }

  get active(): boolean {
    return PROBABILITIES.some((name) => this.spec[name] > 0) || this.spec.skewMs > 0;
  }

  /**
   * Decisions for one reading; `stepMs` is the meter's own interval (its group's, issue 17), the
   * simulated time since its previous reading: a 15-minute meter goes offline as often per minute
   * as a 1-second one. A held (reordered) reading goes out after that meter's next reading.
   */
  decide(reading: MeterEmission, stepMs: number): Decision[] {
    const key = `${reading.communityId}/${reading.meterId}`;
    if (this.isOffline(key, reading.measuredAtMs, stepMs)) {
      this.counts.offlineReadings += 1;
      return [];
    }
    if (this.chance(this.spec.dropout)) {
      this.counts.dropout += 1;
      return [];
    }
    if (this.chance(this.spec.malformed)) {
      this.counts.malformed += 1;
      return [{ kind: "malformed", variant: Math.floor(this.random() * MALFORMED_VARIANTS) }];
    }
    const measuredAtMs = reading.measuredAtMs + this.skew(key);
    if (this.chance(this.spec.reorder)) {
      this.counts.reorder += 1;
      return [{ kind: "send", measuredAtMs, hold: true }];
    }
    if (this.chance(this.spec.duplicate)) {
      this.counts.duplicate += 1;
      return [{ kind: "send", measuredAtMs }, { kind: "send", measuredAtMs, copy: true }];
    }
    return [{ kind: "send", measuredAtMs }];
  }

  private chance(probability: number): boolean {
    return probability > 0 && this.random() < probability;
  }

  private skew(key: string): number {
    if (this.spec.skewMs <= 0) return 0;
    let skew = this.skewOf.get(key);
    if (skew === undefined) {
      skew = Math.round((this.random() * 2 - 1) * this.spec.skewMs);
      this.skewOf.set(key, skew);
    }
    return skew;
  }

  private isOffline(key: string, nowMs: number, stepMs: number): boolean {
    const until = this.offlineUntil.get(key);
    if (until !== undefined && nowMs < until) return true;
    if (this.spec.offline > 0 && this.random() < 1 - (1 - this.spec.offline) ** (stepMs / 60_000)) {
      this.counts.offline += 1;
      this.offlineUntil.set(key, nowMs + (1 + this.random() * 9) * 60_000);
      return true;
    }
    return false;
  }
}

/** Malformed messages a broken meter might send; the aggregator must dead-letter each. */
export const MALFORMED_VARIANTS = 4;

export function malformedPayload(variant: number, reading: { meterId: string; communityId: string; measuredAt: string; seq: number }): string {
  switch (variant) {
    case 0:
      return `{"meterId":"${reading.meterId}","genW":`; // cut off mid-message
    case 1:
      return JSON.stringify({ ...reading, genW: -5, conW: 100 }); // negative watts
    case 2:
      return JSON.stringify({ ...reading, genW: "12", conW: null }); // wrong types
    default:
      // An id that differs from the subject: the communityId, which both reading levels carry.
      return JSON.stringify({ ...reading, communityId: `${reading.communityId}x`, genW: 1, conW: 1 });
  }
}

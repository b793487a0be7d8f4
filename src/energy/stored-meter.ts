import { type IntegratorState, MeterIntegrator } from "./meter-integrator.js";

/**
 * A meter as the aggregator stores it in its snapshot (`ec_agg_state`): its integrator (issue 17),
 * or, in a snapshot written before, its newest reading [genW, conW, measuredAtMs, seq]. Read back
 * by the aggregator on a restart and by the API for a community's meters (issue 23).
 */
export type StoredMeter = IntegratorState | readonly [number, number, number, number];

/** A stored meter back as an integrator: one written before issue 17 holds only the newest reading, and is integrated from it on. */
export function restoredMeter(stored: StoredMeter, floorMs: number): MeterIntegrator {
  if (Array.isArray(stored)) {
    const [genW, conW, measuredAtMs, seq] = stored as readonly [number, number, number, number];
    return MeterIntegrator.startingAt({ genW, conW, measuredAtMs, seq }, floorMs);
  }
  return MeterIntegrator.restore(stored as IntegratorState, floorMs);
}

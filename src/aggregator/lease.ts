import type { LeaseKeys } from "../leases/shared-units.js";

/**
 * The aggregators' leases and members, in their own bucket (`ec_agg_state`, beside the
 * per-meter snapshots): the mechanism is src/leases/. Only one aggregator at a time may own a
 * partition's per-meter state: two would each keep their own copy in memory and overwrite each
 * other's snapshots.
 *
 * Keys of the aggregator's own bookkeeping start with this prefix; ids never contain `/`,
 * so no community's snapshot key does.
 */
export const CONTROL_KEY_PREFIX = "aggregator/";
export const partitionLeaseKey = (partition: number): string => `${CONTROL_KEY_PREFIX}lease.p${partition}`;
export const STRAYS_LEASE_KEY = `${CONTROL_KEY_PREFIX}lease.strays`;
export const MEMBER_KEY_PREFIX = `${CONTROL_KEY_PREFIX}member.`;

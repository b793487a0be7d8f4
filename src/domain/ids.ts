/**
 * Ids of communities and meters end up inside NATS subjects and Redis keys, so they
 * are restricted to a safe alphabet: a `.`, `*`, `>` or space would be subject injection.
 */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Meter id under which a community-level reading (`ec.<id>.net`) is counted. */
export const COMMUNITY_METER_ID = "_community";

export function isValidId(value: unknown): value is string {
  return typeof value === "string" && ID_PATTERN.test(value);
}

/** The error sentence for an invalid id, or undefined when it is valid. */
export function idProblem(field: string, value: unknown): string | undefined {
  if (value === undefined || value === null || value === "") return `${field} is required`;
  if (typeof value !== "string") return `${field} must be a string`;
  if (!ID_PATTERN.test(value)) return `${field} must match [A-Za-z0-9_-]{1,64}`;
  return undefined;
}

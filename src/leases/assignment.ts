/**
 * Which member owns which work unit (an aggregator's partition or its forwarding of
 * unpartitioned readings; an archiver's partition): the live members sorted by id take the
 * units in turn, so every member computes the same answer from the same member list, and the
 * units are spread evenly. Pure.
 */
export function unitsOf(memberId: string, members: readonly string[], units: number): number[] {
  const sorted = [...new Set(members)].sort();
  const index = sorted.indexOf(memberId);
  if (index < 0) return [];
  const owned: number[] = [];
  for (let unit = index; unit < units; unit += sorted.length) owned.push(unit);
  return owned;
}

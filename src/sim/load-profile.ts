/**
 * BDEW standard load profiles (2025 revision), as shipped in fixtures/bdew-2025/.
 * Pure: the caller reads the CSV; this module parses and evaluates it.
 */

export const DAY_TYPES = ["WT", "SA", "FT"] as const;
export type DayType = (typeof DAY_TYPES)[number];

const MONTHS = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"];

/** Average power in W per kWh of annual consumption, by month (0–11), day type and quarter hour (0–95). */
export interface LoadProfile {
  readonly wattsPerKwh: ReadonlyArray<Readonly<Record<DayType, Float64Array>>>;
  /** Whether the dynamisation factor applies (H25, P25, S25). */
  readonly dynamic: boolean;
}

/** Parses a BDEW CSV: row 1 months, row 2 day types, then 96 rows of kWh per quarter hour for 1 GWh/a. */
export function parseLoadProfile(csv: string, dynamic: boolean): LoadProfile {
  const rows = csv.trim().split(/\r?\n/).map((line) => line.split(","));
  const [monthRow, dayRow, ...quarters] = rows;
  if (!monthRow || !dayRow || quarters.length !== 96) throw new Error("a BDEW profile has a month row, a day-type row and 96 quarter-hour rows");
  const table = MONTHS.map(() => ({ WT: new Float64Array(96), SA: new Float64Array(96), FT: new Float64Array(96) }));
  for (let column = 1; column < monthRow.length; column += 1) {
    const month = MONTHS.indexOf(monthRow[column]!.trim());
    const dayType = dayRow[column]!.trim() as DayType;
    if (month < 0 || !DAY_TYPES.includes(dayType)) throw new Error(`unknown BDEW column ${monthRow[column]} ${dayRow[column]}`);
    quarters.forEach((row, quarter) => {
      // kWh per quarter hour for 1,000,000 kWh/a → average W per 1 kWh/a: × 4 (per hour) × 1000 (Wh) / 1e6.
      table[month]![dayType][quarter] = (Number(row[column]) * 4) / 1000;
    });
  }
  return { wattsPerKwh: table, dynamic };
}

export function dayTypeOf(date: Date): DayType {
  const weekday = date.getUTCDay();
  return weekday === 0 ? "FT" : weekday === 6 ? "SA" : "WT";
}

export function dayOfYear(date: Date): number {
  return Math.floor((date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
}

/** BDEW dynamisation factor for the household profiles, t = day of the year. */
export function dynamisationFactor(day: number): number {
  return -3.92e-10 * day ** 4 + 3.2e-7 * day ** 3 - 7.02e-5 * day ** 2 + 2.1e-3 * day + 1.24;
}

/** Expected average power (W) at `date` of a customer with `annualKwh`, linear between quarter-hour centres. */
export function profilePowerW(profile: LoadProfile, date: Date, annualKwh: number): number {
  const minutes = date.getUTCHours() * 60 + date.getUTCMinutes() + date.getUTCSeconds() / 60;
  const position = minutes / 15 - 0.5;
  const lower = Math.floor(position);
  const weight = position - lower;
  const values = profile.wattsPerKwh[date.getUTCMonth()]![dayTypeOf(date)];
  const at = (quarter: number): number => values[(quarter + 96) % 96]!;
  const perKwh = at(lower) * (1 - weight) + at(lower + 1) * weight;
  const factor = profile.dynamic ? dynamisationFactor(dayOfYear(date)) : 1;
  return perKwh * annualKwh * factor;
}

/** Sun elevation and clear-sky PV output from the standard NOAA-style approximations. Pure. */

const DEG = Math.PI / 180;

/** Sun elevation above the horizon in degrees at `date` (UTC) for a place. */
export function sunElevationDeg(date: Date, latitudeDeg: number, longitudeDeg: number): number {
  const dayOfYear = (date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 0)) / 86_400_000;
  const gamma = (2 * Math.PI * (dayOfYear - 1)) / 365;
  const declination =
    0.006918 - 0.399912 * Math.cos(gamma) + 0.070257 * Math.sin(gamma) - 0.006758 * Math.cos(2 * gamma) +
    0.000907 * Math.sin(2 * gamma) - 0.002697 * Math.cos(3 * gamma) + 0.00148 * Math.sin(3 * gamma);
  const equationOfTimeMin =
    229.18 * (0.000075 + 0.001868 * Math.cos(gamma) - 0.032077 * Math.sin(gamma) - 0.014615 * Math.cos(2 * gamma) - 0.040849 * Math.sin(2 * gamma));
  const utcMinutes = date.getUTCHours() * 60 + date.getUTCMinutes() + date.getUTCSeconds() / 60;
  const solarMinutes = utcMinutes + equationOfTimeMin + 4 * longitudeDeg;
  const hourAngle = (solarMinutes / 4 - 180) * DEG;
  const lat = latitudeDeg * DEG;
  const sinElevation = Math.sin(lat) * Math.sin(declination) + Math.cos(lat) * Math.cos(declination) * Math.cos(hourAngle);
  return Math.asin(Math.max(-1, Math.min(1, sinElevation))) / DEG;
}

/**
 * PV output in W of a `kWp` system under a clear sky scaled by `clearness` (0–1):
 * zero with the sun below the horizon, rising with the sine of the elevation.
 */
export function pvPowerW(elevationDeg: number, kWp: number, clearness: number): number {
  if (elevationDeg <= 0) return 0;
  // Air mass makes low sun weaker than its sine alone: an exponent above 1 is a common shortcut.
  const clearSky = Math.sin(elevationDeg * DEG) ** 1.3;
  return kWp * 1000 * 0.85 * clearSky * Math.max(0, Math.min(1, clearness));
}

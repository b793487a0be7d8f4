// Realism check: a June and a December day of the `village` scenario, simulated by
// `ecwatch sim` at --speed max with 1-minute readings (to a nats-server this script starts),
// next to the magnitudes the profiles imply. Usage: npm run realism
// Prints a table and writes bench/results/realism.json.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { coefficientOfPerformance } from "../dist/sim/heat-pump.js";
import { loadProfiles } from "../dist/sim/fixtures.js";
import { profilePowerW } from "../dist/sim/load-profile.js";
import { localTime } from "../dist/domain/local-time.js";
import { describeCommunity } from "../dist/sim/scenario.js";
import { loadScenario } from "../dist/sim/setup.js";
import { pvPowerW, sunElevationDeg } from "../dist/sim/solar.js";
import { typicalTemperatureC } from "../dist/sim/weather.js";
import { startNats } from "../dist/stack/local-server.js";
import { freePort } from "../dist/stack/ports.js";

const DAYS = [
  { label: "June 21", start: "2026-06-21T00:00:00Z" },
  { label: "December 21", start: "2026-12-21T00:00:00Z" },
];
const STEP_MS = 60_000;
const MEAN_CLEARNESS = 0.7; // the weather model's mean sky
const MEAN_ROOF_FACTOR = 0.9; // the meter model's mean share of the sky a roof gets

const community = describeCommunity(loadScenario("village"), 0, 1);
const profiles = loadProfiles();

/** What the profiles alone imply for one day: base load, EVs, heat pumps, PV at a mixed sky. */
function implied(startMs) {
  let baseWh = 0;
  let heatPumpWh = 0;
  let pvWh = 0;
  let noon = { elevation: -90, at: 0 };
  for (let t = startMs; t < startMs + 86_400_000; t += STEP_MS) {
    const date = new Date(t);
    const hours = STEP_MS / 3_600_000;
    const elevation = sunElevationDeg(date, community.latitudeDeg, community.longitudeDeg);
    if (elevation > noon.elevation) noon = { elevation, at: t };
    const local = localTime(date, community.timeZone);
    const outdoorC = typicalTemperatureC(local);
    for (const meter of community.meters) {
      baseWh += profilePowerW(profiles[meter.kind], local, meter.annualKwh) * hours;
      pvWh += pvPowerW(elevation, meter.pvKwp, MEAN_CLEARNESS * MEAN_ROOF_FACTOR) * hours;
      if (meter.heatPump && outdoorC < 16) heatPumpWh += (meter.heatPump.heatLossWPerK * (21 - outdoorC) * hours) / coefficientOfPerformance(outdoorC);
    }
  }
  const evKwh = community.meters.reduce((sum, m) => sum + (m.ev?.dailyKwh ?? 0), 0);
  return {
    conKwh: +(baseWh / 1000 + evKwh + heatPumpWh / 1000).toFixed(1),
    baseKwh: +(baseWh / 1000).toFixed(1),
    evKwh: +evKwh.toFixed(1),
    heatPumpKwh: +(heatPumpWh / 1000).toFixed(1),
    genKwh: +(pvWh / 1000).toFixed(1),
    solarNoonUtc: new Date(noon.at).toISOString().slice(11, 16),
  };
}

const dir = mkdtempSync(join(tmpdir(), "ecwatch-realism-"));
const nats = await startNats({ dataDir: dir, preferredPort: await freePort() });
const results = [];
try {
  for (const day of DAYS) {
    const args = ["bin/ecwatch", "sim", "--scenario", "village", "--communities", "1", "--seed", "1", "--start", day.start, "--duration", "1d", "--interval", "1m", "--speed", "max", "--nats", nats.url, "--json"];
    const started = performance.now();
    const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: new URL("..", import.meta.url) });
    const seconds = (performance.now() - started) / 1000;
    const simulated = JSON.parse(stdout).energy.community1;
    results.push({ day: day.label, wallSeconds: +seconds.toFixed(1), simulated, implied: implied(Date.parse(day.start)) });
  }
} finally {
  await nats.stop();
  rmSync(dir, { recursive: true, force: true });
}

const kw = (w) => `${(w / 1000).toFixed(1)} kW`;
const hour = (iso) => (iso ? iso.slice(11, 16) : "–");
console.log(`village: ${community.meters.length} meters at ${community.latitudeDeg.toFixed(2)} N ${community.longitudeDeg.toFixed(2)} E, ${community.meters.filter((m) => m.pvKwp > 0).length} with PV (${community.meters.reduce((s, m) => s + m.pvKwp, 0).toFixed(0)} kWp)\n`);
console.log("day           generation sim / implied   consumption sim / implied (base + EV + heat pump)   peak surplus (UTC)   peak deficit (UTC)   solar noon");
for (const r of results) {
  const { simulated: s, implied: i } = r;
  console.log(
    `${r.day.padEnd(13)} ${`${s.genKwh.toFixed(0)} / ${i.genKwh.toFixed(0)} kWh`.padEnd(26)} ${`${s.conKwh.toFixed(0)} / ${i.conKwh.toFixed(0)} kWh (${i.baseKwh.toFixed(0)} + ${i.evKwh.toFixed(0)} + ${i.heatPumpKwh.toFixed(0)})`.padEnd(51)} ${`${kw(s.peakSurplusW)} at ${hour(s.peakSurplusAt)}`.padEnd(20)} ${`${kw(s.peakDeficitW)} at ${hour(s.peakDeficitAt)}`.padEnd(20)} ${i.solarNoonUtc}`,
  );
}
console.log(`\n(1,440 readings × 40 meters a day; simulated in ${results.map((r) => `${r.wallSeconds} s`).join(" and ")}.)`);
mkdirSync(new URL("results/", import.meta.url), { recursive: true });
writeFileSync(new URL("results/realism.json", import.meta.url), `${JSON.stringify({ community: community.communityId, days: results }, null, 2)}\n`);

// Writes fixtures/traces/village-day-1s.csv.gz: one day of the village (40 households) as the
// community's aggregate once a second, the input of `ecwatch wear-emu --compare`.
// Usage: npm run build && node scripts/make-day-trace.mjs
import { writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { NO_FAULTS, FaultInjector } from "../dist/sim/faults.js";
import { loadProfiles } from "../dist/sim/fixtures.js";
import { describeCommunity } from "../dist/sim/scenario.js";
import { loadScenario } from "../dist/sim/setup.js";
import { ModelSource } from "../dist/sim/model-source.js";

const START = "2026-06-21T00:00:00.000Z";
const SEED = 1;
const community = describeCommunity(loadScenario("village"), 0, SEED);
const source = new ModelSource({
  communities: [community],
  profiles: loadProfiles(),
  seed: SEED,
  level: "community",
  intervalMs: 1_000,
  startMs: Date.parse(START),
  endMs: Date.parse(START) + 86_400_000,
  faults: new FaultInjector(NO_FAULTS, SEED),
});
const lines = [
  `# ecwatch community trace: community1 of the village scenario (40 households), seed ${SEED}, made by scripts/make-day-trace.mjs`,
  `# start ${START}, step 1000 ms`,
  "genW,conW",
];
for (let tick = source.next(); tick; tick = source.next()) {
  const reading = JSON.parse(tick.emissions[0].payload);
  lines.push(`${reading.genW},${reading.conW}`);
}
writeFileSync(new URL("../fixtures/traces/village-day-1s.csv.gz", import.meta.url), gzipSync(`${lines.join("\n")}\n`, { level: 9 }));
console.log(`${lines.length - 3} aggregates written`);

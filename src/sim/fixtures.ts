import { readFileSync } from "node:fs";
import { type LoadProfile, parseLoadProfile } from "./load-profile.js";

/** fixtures/ of the package, the same from src/ (tests) and dist/ (the CLI). */
const FIXTURES = new URL("../../fixtures/", import.meta.url);

/** The BDEW H25 household profile (dynamic), shipped in fixtures/bdew-2025/. */
export function loadHouseholdProfile(): LoadProfile {
  return parseLoadProfile(readFileSync(new URL("bdew-2025/h25.csv", FIXTURES), "utf8"), true);
}

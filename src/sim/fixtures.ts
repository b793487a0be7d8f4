import { readFileSync } from "node:fs";
import { type LoadProfile, parseLoadProfile } from "./load-profile.js";
import type { LoadProfiles } from "./meter-model.js";

/** fixtures/ of the package, the same from src/ (tests) and dist/ (the CLI). */
export const FIXTURES = new URL("../../fixtures/", import.meta.url);

function loadProfile(file: string, dynamic: boolean): LoadProfile {
  return parseLoadProfile(readFileSync(new URL(`bdew-2025/${file}`, FIXTURES), "utf8"), dynamic);
}

/** The BDEW 2025 profiles shipped in fixtures/bdew-2025/: H25 (dynamic) for households, G25 for businesses. */
export function loadProfiles(): LoadProfiles {
  return { household: loadProfile("h25.csv", true), business: loadProfile("g25.csv", false) };
}

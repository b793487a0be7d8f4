import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium, installed by `npm test` (scripts/ensure-deps.sh). */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Headless Chromium, driven by playwright-core. `--no-sandbox`: in a container (and as root)
 * Chromium's sandbox cannot set up its namespaces and the browser would not start; the pages
 * tests open are our own. Playwright's `headless` is the new headless mode already.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ["--no-sandbox"] });
}

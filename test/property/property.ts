import fc, { type IAsyncProperty, type IProperty, type Parameters, type RunDetails } from "fast-check";
import { expect } from "vitest";

/**
 * Runs a property with fast-check for exactly `numRuns` generated cases, fails with
 * fast-check's report (counterexample, seed and path to replay it), asserts that every case
 * ran, and prints how many did: the issue asks for the numbers (issue 10, "hostile input").
 * Replay a failure with `FC_SEED=<seed> npx vitest run test/property`.
 */
export function checkProperty<Ts>(name: string, property: IProperty<Ts>, numRuns: number): void {
  const details = fc.check(property, runParameters(numRuns));
  report(name, details, numRuns);
}

export async function checkAsyncProperty<Ts>(name: string, property: IAsyncProperty<Ts>, numRuns: number): Promise<void> {
  const details = await fc.check(property, runParameters(numRuns));
  report(name, details, numRuns);
}

function runParameters<Ts>(numRuns: number): Parameters<Ts> {
  const seed = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
  return { numRuns, includeErrorInReport: true, ...(seed !== undefined && { seed }) };
}

function report<Ts>(name: string, details: RunDetails<Ts>, numRuns: number): void {
  if (details.failed) throw new Error(`property "${name}" failed:\n${fc.defaultReportMessage(details) ?? "no report"}`);
  expect(details.numRuns, `cases run for "${name}"`).toBe(numRuns);
  console.log(`[property] ${name}: ${details.numRuns} cases`);
}

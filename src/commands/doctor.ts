import type { ChalkInstance } from "chalk";
import { doctorProbes } from "../app/doctor.js";
import { colorsFor } from "../cli/output.js";
import { resolveSecurity, type SecurityFlags } from "../config/connection-settings.js";
import { runChecks } from "../doctor/checks.js";
import type { Check, CheckStatus } from "../doctor/verdicts.js";
import { ExitCode } from "../errors.js";

export interface DoctorFlags extends SecurityFlags {
  readonly nats?: string;
  readonly redis?: string;
  readonly api?: string;
  readonly json?: boolean;
}

const MARKS: Record<CheckStatus, { mark: string; color: "green" | "yellow" | "red" }> = {
  ok: { mark: "✔", color: "green" },
  warn: { mark: "!", color: "yellow" },
  fail: { mark: "✖", color: "red" },
};

/** The checks as an aligned table, each fix indented under its line, and a one-line verdict. */
export function formatReport(checks: readonly Check[], colors: ChalkInstance): string {
  const width = Math.max(...checks.map((check) => check.name.length));
  const lines: string[] = [];
  for (const check of checks) {
    const { mark, color } = MARKS[check.status];
    lines.push(`${colors[color](mark)} ${check.name.padEnd(width)}  ${check.detail}`);
    if (check.fix && check.status !== "ok") lines.push(`  ${" ".repeat(width)}  ${colors.dim("→")} ${check.fix}`);
  }
  const count = (status: CheckStatus) => checks.filter((check) => check.status === status).length;
  const [failures, warnings] = [count("fail"), count("warn")];
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  lines.push(
    "",
    failures ? colors.red(`${plural(failures, "problem")}, ${plural(warnings, "warning")}`) : warnings ? colors.yellow(`no problems, ${plural(warnings, "warning")}`) : colors.green("all checks passed"),
  );
  return `${lines.join("\n")}\n`;
}

export async function runDoctor(flags: DoctorFlags): Promise<ExitCode> {
  const checks = await runChecks({ ...flags, ...doctorProbes(resolveSecurity(flags)) });
  const ok = checks.every((check) => check.status !== "fail");
  process.stdout.write(flags.json ? `${JSON.stringify({ ok, checks })}\n` : formatReport(checks, colorsFor(process.stdout)));
  return ok ? ExitCode.Ok : ExitCode.Failure;
}

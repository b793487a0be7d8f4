import { type BenchReport, formatReport, formatStage } from "./bench-report.js";
import type { Check } from "./checks.js";

/**
 * The reports CI systems read (issue 20): JUnit XML (`--junit`), one test case per check with a
 * `<failure>` naming the measured value and the limit, the run's figures in `system-out`; and a
 * Markdown summary (`--summary`, e.g. `$GITHUB_STEP_SUMMARY`). Pure: text from a report.
 */

const escapeXml = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
/** CDATA cannot hold `]]>`: split it over two sections. */
const cdata = (text: string): string => `<![CDATA[${text.replace(/]]>/g, "]]]]><![CDATA[>")}]]>`;

export function junitXml(report: BenchReport, timestamp: string): string {
  const checks = report.checks;
  const failures = checks.filter((c) => !c.passed).length;
  const seconds = (report.config.durationMs / 1000).toFixed(3);
  const cases = checks.map((c) => {
    const open = `    <testcase classname="ecwatch.bench.${c.kind}" name="${escapeXml(c.name)}" time="0">`;
    if (c.passed) return `${open}\n      <system-out>${escapeXml(`measured ${c.measured}; limit ${c.limit}`)}</system-out>\n    </testcase>`;
    const message = `${c.name}: measured ${c.measured}, limit ${c.limit}`;
    return `${open}\n      <failure type="${c.kind}" message="${escapeXml(message)}">${escapeXml(`measured ${c.measured}\nlimit ${c.limit}`)}</failure>\n    </testcase>`;
  });
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="ecwatch bench" tests="${checks.length}" failures="${failures}" errors="0" time="${seconds}">`,
    `  <testsuite name="ecwatch bench" tests="${checks.length}" failures="${failures}" errors="0" skipped="0" time="${seconds}" timestamp="${escapeXml(timestamp)}">`,
    ...cases,
    `    <system-out>${cdata(formatReport(report))}</system-out>`,
    `  </testsuite>`,
    `</testsuites>`,
    "",
  ].join("\n");
}

/** A Markdown cell: no line breaks, `|` escaped. */
const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function markdownSummary(report: BenchReport): string {
  const failed = report.checks.filter((c) => !c.passed);
  const l = report.latencyMs;
  const h = report.hops;
  const verdict = failed.length === 0 ? `✅ all ${report.checks.length} checks passed` : `❌ ${failed.length} of ${report.checks.length} checks failed`;
  const figures: Array<[string, string]> = [
    ["against", report.target === "external" ? "an external stack" : "a stack started here"],
    ["readings/s through the pipeline", `${report.readingsPerSec.toLocaleString("en")}/s (${report.ratio} × the raw baseline's ${report.baseline.readingsPerSec.toLocaleString("en")}/s)`],
    ["published / lost", `${report.published.toLocaleString("en")} / ${report.lost}`],
    [`end-to-end p50 / p99 (${report.config.phase} phases)`, `${l.p50} / ${l.p99} ms`],
    ["publish → stored → announced → SSE client, p50", `${h.publishToStored.p50} → ${h.storedToAnnounced.p50} → ${h.announcedToClient.p50} ms`],
    [`raw JetStream hop at ${report.baseline.latencyAtRate.toLocaleString("en")}/s, p50 / p99`, `${report.baseline.latencyMs.p50} / ${report.baseline.latencyMs.p99} ms`],
    ["SSE clients / behind at end", `${report.sse.clients} / ${report.sse.behind}`],
  ];
  return [
    `## ecwatch bench: ${verdict}`,
    "",
    "| | check | measured | limit |",
    "|---|---|---|---|",
    ...report.checks.map((c: Check) => `| ${c.passed ? "✅" : "❌"} | ${cell(c.name)} | ${cell(c.measured)} | ${cell(c.limit)} |`),
    "",
    "| figure | value |",
    "|---|---|",
    ...figures.map(([name, value]) => `| ${cell(name)} | ${cell(value)} |`),
    ...(report.stages.length > 1 ? ["", "Stages:", "", ...report.stages.map((s, i) => formatStage(s, i).trim())] : []),
    "",
  ].join("\n");
}

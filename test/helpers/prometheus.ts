import { spawn } from "node:child_process";

/** One sample of the Prometheus text format: `name{label="value",…} number`. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a scrape (comments skipped), enough for the metrics ecwatch writes. */
export function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    const raw = match[3]!;
    samples.push({ name: match[1]!, labels, value: raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw) });
  }
  return samples;
}

/** A scrape of a /metrics endpoint, with the value of one series by name and labels. */
export class Scrape {
  constructor(readonly samples: readonly Sample[]) {}

  static async of(url: string): Promise<Scrape> {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
    return new Scrape(parseSamples(await res.text()));
  }

  /** Every series of the metric whose labels include `labels`. */
  series(name: string, labels: Readonly<Record<string, string>> = {}): Sample[] {
    return this.samples.filter((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value));
  }

  /** The value of exactly one series; undefined when there is none (a counter never incremented). */
  value(name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
    const found = this.series(name, labels);
    if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} series`);
    return found[0]?.value;
  }
}

/** What `promtool check metrics` said of a scrape: its exit code (0 clean, 3 lint problems, 1 unparsable) and its complaints. */
export interface PromtoolVerdict {
  readonly code: number | null;
  readonly output: string;
}

/** Runs Prometheus's own linter, `promtool check metrics`, on a scrape's text (its stdin, as `curl … | promtool check metrics`). */
export function promtoolCheck(text: string): Promise<PromtoolVerdict> {
  return new Promise((resolve, reject) => {
    const child = spawn("promtool", ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

/** The names of the metric families that a scrape declares more than once (a merge of registries gone wrong). */
export function declaredTwice(text: string): string[] {
  const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]!);
  return names.filter((name, i) => names.indexOf(name) !== i);
}

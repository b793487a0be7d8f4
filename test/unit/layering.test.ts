/**
 * The folders of src/ form layers; imports point down only, and no two folders import each
 * other (issue 16; ../shared/design.md "Where the work should happen"). A new folder must be
 * given its layer here.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

/** Top to bottom. A module may import from its own layer or any below it, never from one above. */
export const LAYERS: ReadonlyArray<readonly string[]> = [
  // the entry and each command's flags, lazily importing its command
  ["cli.ts"],
  ["cli-program/"],
  // one file per command: flags → a module with its dependencies → a status
  ["commands/"],
  // the composition root: the only place that builds adapters
  ["app/"],
  // output, signals, the exit boundary
  ["cli/"],
  // services, each owning its ports
  ["aggregator/", "api/", "sim/", "wear-emu/", "tui/", "bench/", "doctor/", "archive/"],
  // what several services share: leases on units of work (aggregators' and archivers' partitions)
  ["leases/"],
  // connection settings from flags, environment and the state file
  ["config/"],
  // adapters, named for what they wrap; stack/ runs the server processes
  ["nats/", "redis/", "api-client/", "adb/", "prometheus/", "http/", "stack/", "duckdb/"],
  // pure: names and codecs of the wire, ids, readings, aggregates, energy math
  ["wire/", "domain/", "energy/", "errors.ts", "connect-failure.ts", "url.ts", "version.ts"],
];

const SRC = path.resolve(import.meta.dirname, "../../src");

/** Every .ts/.tsx file under `dir`. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? sourceFiles(file) : /\.tsx?$/.test(name) ? [file] : [];
  });
}

/** The node of a file in the folder graph: its top folder (`nats/`), or the file itself at src/'s root. */
function nodeOf(file: string): string {
  const [top, ...rest] = path.relative(SRC, file).split(path.sep);
  return rest.length ? `${top}/` : top!;
}

function resolve(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec.replace(/\.js$/, ""));
  return [".ts", ".tsx", "/index.ts"].map((ext) => base + ext).find((candidate) => {
    try {
      return statSync(candidate).isFile();
    } catch {
      return false;
    }
  });
}

export interface Edge {
  readonly from: string;
  readonly to: string;
  readonly file: string;
}

/** Folder-to-folder imports of the source tree (type-only imports included: they couple the folders as much). */
export function folderEdges(src: string = SRC): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(src)) {
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(/(?:import|export)\s[^;]*?from\s+["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g)) {
      const target = resolve(file, (match[1] ?? match[2])!);
      if (!target) continue;
      const [from, to] = [nodeOf(file), nodeOf(target)];
      if (from !== to) edges.push({ from, to, file: `${path.relative(src, file)} → ${path.relative(src, target)}` });
    }
  }
  return edges;
}

/** The cycles between folders (strongly connected components of more than one folder). */
export function folderCycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edges) (next.get(from) ?? next.set(from, new Set()).get(from)!).add(to);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    for (const to of next.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (stack.includes(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do component.push((member = stack.pop()!));
      while (member !== node);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const node of new Set(edges.flatMap(({ from, to }) => [from, to]))) if (!index.has(node)) visit(node);
  return cycles;
}

const layerOf = (node: string): number => LAYERS.findIndex((layer) => layer.includes(node));

/** Imports that point up: from a folder into one of a higher layer. */
export function upwardImports(edges: readonly Edge[]): string[] {
  return edges.filter(({ from, to }) => layerOf(to) < layerOf(from)).map(({ file }) => file);
}

describe("the folders of src/", () => {
  const edges = folderEdges();

  it("each have a layer", () => {
    const nodes = new Set(sourceFiles(SRC).map(nodeOf));
    expect([...nodes].filter((node) => layerOf(node) < 0)).toEqual([]);
  });

  it("import each other in no cycle", () => {
    expect(folderCycles(edges)).toEqual([]);
  });

  it("import only from their own layer or one below", () => {
    expect(upwardImports(edges)).toEqual([]);
  });
});

describe("the layering check", () => {
  it("finds a cycle and an upward import", () => {
    const edges: Edge[] = [
      { from: "nats/", to: "aggregator/", file: "nats/x.ts → aggregator/y.ts" },
      { from: "aggregator/", to: "nats/", file: "aggregator/y.ts → nats/x.ts" },
      { from: "wire/", to: "commands/", file: "wire/names.ts → commands/up.ts" },
    ];
    expect(folderCycles(edges)).toEqual([["aggregator/", "nats/"]]);
    expect(upwardImports(edges)).toEqual(["nats/x.ts → aggregator/y.ts", "wire/names.ts → commands/up.ts"]);
  });
});

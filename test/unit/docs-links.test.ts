import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The README is a newcomer's page and docs/ holds the rest (issue 19): every relative link of
 * README.md and docs/*.md must reach a file of the repository, and every `#anchor` a heading
 * of the page it points to, as GitHub renders it.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const README_MAX_LINES = 250;

const pages = ["README.md", ...readdirSync(join(root, "docs")).filter((name) => name.endsWith(".md")).map((name) => `docs/${name}`)];

/** The lines outside fenced code blocks. */
function prose(text: string): string[] {
  let fenced = false;
  return text.split("\n").filter((line) => {
    if (line.startsWith("```")) fenced = !fenced;
    return !fenced && !line.startsWith("```");
  });
}

/** GitHub's anchor of a heading (github-slugger): lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of prose(markdown)) {
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    const base = heading[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const repeat = seen.get(base) ?? 0;
    seen.set(base, repeat + 1);
    anchors.add(repeat === 0 ? base : `${base}-${repeat}`);
  }
  return anchors;
}

/** Every link target of a page's prose: `[text](target)`, without the external ones. */
function relativeLinks(markdown: string): string[] {
  const targets: string[] = [];
  for (const line of prose(markdown).map((text) => text.replace(/`[^`]*`/g, ""))) {
    for (const match of line.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1]!;
      if (!/^[a-z]+:/i.test(target)) targets.push(target);
    }
  }
  return targets;
}

describe("README.md and docs/", () => {
  it(`the README fits on a newcomer's page (at most ${README_MAX_LINES} lines) and links every page of docs/`, () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const lines = readme.trimEnd().split("\n").length;
    console.log(`README.md: ${lines} lines; docs/: ${pages.length - 1} pages`);
    expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
    const linked = new Set(relativeLinks(readme).map((target) => target.split("#")[0]));
    expect(pages.filter((page) => page.startsWith("docs/") && !linked.has(page))).toEqual([]);
  });

  it.each(pages)("every relative link and anchor of %s resolves", (page) => {
    const broken: string[] = [];
    for (const target of relativeLinks(readFileSync(join(root, page), "utf8"))) {
      const [path, anchor] = target.split("#") as [string, string | undefined];
      const file = path === "" ? join(root, page) : resolve(dirname(join(root, page)), path);
      if (!existsSync(file)) {
        broken.push(`${target}: no file ${relative(root, file)}`);
        continue;
      }
      if (anchor !== undefined && file.endsWith(".md") && !headingAnchors(readFileSync(file, "utf8")).has(anchor)) {
        broken.push(`${target}: no heading #${anchor} in ${relative(root, file)}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("names headings as GitHub does", () => {
    const anchors = headingAnchors("# The API\n## `ecwatch up`\n## Partitions, and several aggregators\n## A real watch app through adb: `--watch adb[:serial]`\n## Notes\n## Notes\n```\n# not a heading\n```");
    expect([...anchors]).toEqual(["the-api", "ecwatch-up", "partitions-and-several-aggregators", "a-real-watch-app-through-adb---watch-adbserial", "notes", "notes-1"]);
  });
});

import { execFileSync } from "node:child_process";

export interface JunitSuite {
  readonly suite: Record<string, string>;
  readonly cases: ReadonlyArray<{ readonly name: string; readonly classname: string; readonly failure?: Record<string, string> }>;
  /** The suite's own system-out. */
  readonly out: string;
}

/**
 * Reads a JUnit XML file back with a real XML parser, not a regex: Python's standard library
 * (xml.etree.ElementTree, Debian's python3, which `npm test` installs), as a CI system would.
 */
export function readJunit(file: string): JunitSuite {
  const script = `import json, sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
def case(c):
    f = c.find("failure")
    return {"name": c.get("name"), "classname": c.get("classname"), **({"failure": dict(f.attrib, text=f.text)} if f is not None else {})}
print(json.dumps({"suite": dict(suite.attrib), "cases": [case(c) for c in suite.findall("testcase")], "out": suite.find("system-out").text}))`;
  return JSON.parse(execFileSync("python3", ["-c", script, file], { encoding: "utf8" })) as JunitSuite;
}

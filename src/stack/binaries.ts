import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { EcwatchError } from "../errors.js";

/** Server programs ecwatch starts, with the Debian/Ubuntu package that ships each. */
export const SERVER_PROGRAMS = {
  "nats-server": "nats-server",
  "redis-server": "redis-server",
} as const;
export type ServerProgram = keyof typeof SERVER_PROGRAMS;

/** Absolute path of a program on PATH, or undefined. */
export function which(program: string, path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export function installHint(program: ServerProgram): string {
  return `Install it with \`sudo apt-get install -y ${SERVER_PROGRAMS[program]}\` (or run \`npm start\`, which installs it).`;
}

/** The path of a server program, or an error saying how to install it. */
export function requireProgram(program: ServerProgram): string {
  const found = which(program);
  if (!found) throw new EcwatchError("MISSING_PROGRAM", `${program} is not installed.`, { hint: installHint(program) });
  return found;
}

/** The version a server program reports, e.g. "2.9.10" or "7.0.15". */
export async function programVersion(path: string): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)(path, ["--version"], { timeout: 5_000 });
    return /v?=?(\d+\.\d+\.\d+)/.exec(stdout)?.[1];
  } catch {
    return undefined;
  }
}

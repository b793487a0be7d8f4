import { InvalidArgumentError } from "commander";
import { parseDuration } from "../domain/duration.js";
import { idProblem } from "../domain/ids.js";

/** commander argument parsers that reject bad values with one sentence (exit code 2). */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

export function duration(min = 1): (value: string) => number {
  return (value) => {
    const ms = parseDuration(value);
    if (ms === undefined || ms < min) throw new InvalidArgumentError("expected a duration like 500ms, 2s, 5m, 1h or 1d.");
    return ms;
  };
}

export function url(schemes: readonly string[]): (value: string) => string {
  return (value) => {
    for (const one of value.split(",")) {
      let parsed: URL;
      try {
        parsed = new URL(one);
      } catch {
        throw new InvalidArgumentError(`expected a URL like ${schemes[0]}://127.0.0.1:port.`);
      }
      if (!schemes.includes(parsed.protocol.replace(/:$/, ""))) throw new InvalidArgumentError(`expected a ${schemes.join(" or ")} URL.`);
    }
    return value;
  };
}

export function communityId(value: string): string {
  const problem = idProblem("the community id", value);
  if (problem) throw new InvalidArgumentError(`${problem}.`);
  return value;
}

export function oneOf<T extends string>(values: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(values as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${values.join(", ")}.`);
    return value as T;
  };
}

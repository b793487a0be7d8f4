import { Command, CommanderError, InvalidArgumentError, type Option } from "commander";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli.js";
import { communityId, duration, faults, glanceRate, integer, oneOf, positiveNumber, qualifiedName, receiverClass, speed, timestamp, url, watchTarget } from "../../src/cli/options.js";
import { parseDuration } from "../../src/domain/duration.js";
import { ID_PATTERN } from "../../src/domain/ids.js";
import { parseTimestamp } from "../../src/domain/reading.js";
import { MAX_GLANCES_PER_DAY } from "../../src/wear-emu/glances.js";
import { anyString, stringOf, validId, validTimestamp } from "./arbitraries.js";
import { checkProperty } from "./property.js";

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** Runs a parser; anything it throws but commander's usage error fails the property. */
function run<T>(parse: (value: string) => T, value: string): Outcome<T> {
  try {
    return { ok: true, value: parse(value) };
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw new Error(`threw ${String(err)} instead of a usage error for ${JSON.stringify(value)}`);
    expect(err.code).toBe("commander.invalidArgument");
    expect(err.message.length).toBeGreaterThan(0);
    return { ok: false, message: err.message };
  }
}

/** A URL-shaped string: a scheme, a host, maybe a port and a path, any part of it possibly odd. */
const urlLike = (): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.constantFrom("nats", "tls", "redis", "rediss", "http", "https", "mqtt", "ws", "file", "", "NATS", "nats:"),
      fc.constantFrom("://", ":", ":///", "//", "://user:pw@"),
      fc.oneof(fc.constantFrom("127.0.0.1", "[::1]", "localhost", "example.com", "", "[", "10.0.0.5", "host name", "h\u0000"), fc.domain()),
      fc.option(fc.oneof(fc.integer({ min: -1, max: 70_000 }).map(String), fc.constantFrom("", "x", "4222/"))),
      fc.constantFrom("", "/", "/a?b#c", "/%zz"),
    )
    .map(([scheme, sep, host, port, path]) => `${scheme}${sep}${host}${port === null ? "" : `:${port}`}${path}`);

/** Text shaped like the values the options take, and slightly off. */
const optionLike = (): fc.Arbitrary<string> =>
  fc.oneof(
    anyString(40),
    stringOf([..."0123456789.-+eE x/,=:_"], 0, 24),
    fc.tuple(fc.oneof(fc.integer().map(String), fc.double().map(String)), fc.constantFrom("", "ms", "s", "m", "h", "d", "/day", "/h", "/ d", "%", "kw")).map(([n, u]) => `${n}${u}`),
    urlLike(),
    validTimestamp().map((t) => t.text),
    fc.constantFrom("max", "adb", "adb:", "adb:emulator-5554", "emulated", ".presentation.X", "com.example.energy", "dropout=0.5,skew=2s", "meter", "community"),
  );

describe("every option and argument parser of the real CLI", () => {
  // Taken from the composition root itself, so a parser added later is covered too.
  const parsers: Array<{ command: string; flag: string; option?: Option; parse: (value: string, previous: unknown) => unknown }> = [];
  for (const command of [buildProgram(), ...buildProgram().commands]) {
    for (const option of command.options) {
      if (option.parseArg) parsers.push({ command: command.name(), flag: option.long ?? option.flags, option, parse: option.parseArg.bind(option) });
    }
    for (const argument of command.registeredArguments) {
      if (argument.parseArg) parsers.push({ command: command.name(), flag: `<${argument.name()}>`, parse: argument.parseArg.bind(argument) });
    }
  }

  it("covers the parsers it should", () => {
    const flags = new Set(parsers.map((p) => p.flag));
    for (const flag of ["--communities", "--interval", "--start", "--speed", "--faults", "--glances", "--nats", "--port", "--max-kw", "--watch", "<community>"]) {
      expect(flags, flag).toContain(flag);
    }
  });

  it("never throw anything but a usage error, and commander names the flag in it", () => {
    checkProperty(
      "CLI option parsers: usage errors only, naming the flag",
      fc.property(fc.constantFrom(...parsers), optionLike(), ({ command, flag, option, parse }, value) => {
        const outcome = run((v) => parse(v, undefined), value);
        if (outcome.ok || !option?.long) return;
        // As the user sees it: commander turns the parser's sentence into one that names the flag.
        let message = "";
        const probe = new Command(command)
          .exitOverride()
          .configureOutput({ writeErr: (text) => void (message += text), writeOut: () => undefined })
          .addOption(option)
          .action(() => undefined);
        const thrown = (() => {
          try {
            // `--flag=value`: a value that starts with `-` is still the value.
            probe.parse([`${option.long}=${value}`], { from: "user" });
          } catch (err) {
            return err;
          }
          return undefined;
        })();
        expect(thrown).toBeInstanceOf(CommanderError);
        expect((thrown as CommanderError).code).toBe("commander.invalidArgument");
        expect(message).toContain(option.long);
        expect(message).toContain(outcome.message);
      }),
      1_000,
    );
  });
});

describe("integer", () => {
  it("accepts exactly the whole numbers within its bounds", () => {
    const bounds = fc.tuple(fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: 0, max: 1e7 })).map(([min, span]) => [min, min + span] as const);
    checkProperty(
      "integer(min, max) accepts exactly the whole numbers in range",
      fc.property(bounds, fc.oneof(fc.integer({ min: -2e7, max: 2e7 }).map(String), optionLike()), ([min, max], value) => {
        const outcome = run(integer(min, max), value);
        const n = Number(value);
        const whole = /^\s*-?\d+\s*$/.test(value) && Number.isSafeInteger(n);
        expect(outcome.ok).toBe(whole && n >= min && n <= max);
        if (outcome.ok) expect(outcome.value).toBe(n);
        else expect(outcome.message).toBe(`expected a whole number from ${min} to ${max}.`);
      }),
      2_000,
    );
  });
});

describe("duration", () => {
  it("accepts what parseDuration reads at or above the minimum, as that many ms", () => {
    checkProperty(
      "duration(min) agrees with parseDuration and the minimum",
      fc.property(fc.integer({ min: 0, max: 100_000 }), optionLike(), (min, value) => {
        const outcome = run(duration(min), value);
        const ms = parseDuration(value);
        expect(outcome.ok).toBe(ms !== undefined && ms >= min);
        if (outcome.ok) expect(Number.isInteger(outcome.value) && outcome.value >= min).toBe(true);
      }),
      1_500,
    );
  });
});

describe("speed and positiveNumber", () => {
  it("accept only plain decimals above 0 up to 1e9 (and speed: max)", () => {
    checkProperty(
      "speed/positiveNumber accept only plain decimals in (0, 1e9]",
      fc.property(fc.oneof(optionLike(), fc.double({ min: 0, max: 2e9, noNaN: true }).map(String)), (value) => {
        for (const parse of [speed, positiveNumber]) {
          const outcome = run(parse, value);
          if (!outcome.ok) continue;
          if (parse === speed && value === "max") {
            expect(outcome.value).toBe(Number.POSITIVE_INFINITY);
            continue;
          }
          expect(value).toMatch(/^\d*\.?\d+$/);
          expect(outcome.value > 0 && outcome.value <= 1e9).toBe(true);
          expect(outcome.value).toBe(Number(value));
        }
      }),
      1_500,
    );
  });
});

describe("url", () => {
  it("accepts a list only when every URL parses and has an allowed scheme, and returns it unchanged", () => {
    const schemes = ["nats", "tls"] as const;
    const lists = fc.array(fc.oneof(urlLike(), optionLike(), fc.constantFrom("nats://127.0.0.1:4222", "tls://h:1", "nats://[::1]:4222", "redis://x")), { minLength: 1, maxLength: 3 }).map((urls) => urls.join(","));
    checkProperty(
      "url(schemes) accepts only lists of allowed URLs",
      fc.property(lists, (value) => {
        const outcome = run(url(schemes), value);
        if (!outcome.ok) return;
        expect(outcome.value).toBe(value);
        for (const one of value.split(",")) expect(schemes).toContain(new URL(one).protocol.slice(0, -1));
      }),
      1_500,
    );
  });
});

describe("communityId, oneOf, timestamp", () => {
  it("communityId accepts exactly the valid ids", () => {
    checkProperty(
      "communityId accepts exactly ID_PATTERN",
      fc.property(fc.oneof(validId(), optionLike()), (value) => {
        const outcome = run(communityId, value);
        expect(outcome.ok).toBe(ID_PATTERN.test(value));
        if (!outcome.ok) expect(outcome.message).toMatch(/^the community id /);
      }),
      1_500,
    );
  });

  it("oneOf accepts exactly its values", () => {
    checkProperty(
      "oneOf accepts exactly its values",
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 5 }), fc.oneof(optionLike(), fc.string({ maxLength: 8 })), (values, value) => {
        const outcome = run(oneOf(values), value);
        expect(outcome.ok).toBe(values.includes(value));
        const other = values[value.length % values.length]!;
        expect(run(oneOf(values), other)).toEqual({ ok: true, value: other });
      }),
      1_500,
    );
  });

  it("timestamp agrees with parseTimestamp", () => {
    checkProperty(
      "timestamp agrees with parseTimestamp",
      fc.property(fc.oneof(optionLike(), validTimestamp().map((t) => t.text)), (value) => {
        const outcome = run(timestamp, value);
        const ms = parseTimestamp(value);
        expect(outcome).toEqual(ms === undefined ? { ok: false, message: "expected an ISO-8601 time with a zone, e.g. 2026-06-21T00:00:00Z." } : { ok: true, value: ms });
      }),
      1_500,
    );
  });
});

describe("faults", () => {
  const PROBABILITIES = ["dropout", "duplicate", "reorder", "malformed", "offline"] as const;

  it("reads back every spec written as name=value pairs", () => {
    const spec = fc.record(
      { dropout: fc.double({ min: 0, max: 1, noNaN: true }), duplicate: fc.double({ min: 0, max: 1, noNaN: true }), reorder: fc.double({ min: 0, max: 1, noNaN: true }), malformed: fc.double({ min: 0, max: 1, noNaN: true }), offline: fc.double({ min: 0, max: 1, noNaN: true }), skew: fc.integer({ min: 0, max: 86_400_000 }) },
      { requiredKeys: [] },
    );
    checkProperty(
      "faults round-trips name=value specs",
      fc.property(spec, fc.constantFrom(",", " , ", ",,"), (written, separator) => {
        const text = Object.entries(written)
          .map(([name, value]) => (name === "skew" ? `skew=${value}ms` : `${name}=${value.toFixed(6)}`))
          .join(separator);
        const outcome = run(faults, text);
        expect(outcome.ok).toBe(true);
        if (!outcome.ok) return;
        for (const name of PROBABILITIES) expect(outcome.value[name]).toBe(written[name] === undefined ? 0 : Number(written[name].toFixed(6)));
        expect(outcome.value.skewMs).toBe(written.skew ?? 0);
      }),
      1_500,
    );
  });

  it("accepted specs hold probabilities from 0 to 1 and a finite skew; refusals name the part", () => {
    const partLike = fc.oneof(
      optionLike(),
      fc.tuple(fc.constantFrom(...PROBABILITIES, "skew", "Dropout", "", "x"), fc.constantFrom("=", "==", ""), fc.oneof(optionLike(), fc.double().map(String))).map(([n, eq, v]) => `${n}${eq}${v}`),
    );
    checkProperty(
      "faults: accepted specs are in range, refusals quote the part",
      fc.property(fc.array(partLike, { maxLength: 4 }).map((parts) => parts.join(",")), (text) => {
        const outcome = run(faults, text);
        if (outcome.ok) {
          for (const name of PROBABILITIES) expect(outcome.value[name] >= 0 && outcome.value[name] <= 1).toBe(true);
          expect(Number.isFinite(outcome.value.skewMs) && outcome.value.skewMs >= 0).toBe(true);
        } else {
          expect(outcome.message).toMatch(/(is not name=value|^skew must be|^unknown fault|must be a probability from 0 to 1)/);
        }
      }),
      1_500,
    );
  });
});

describe("glanceRate", () => {
  it("reads n/day and n/h into glances a day, from 0 to the most that fit", () => {
    // Anywhere, and around the most that fit, per day and per hour.
    const count = fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: MAX_GLANCES_PER_DAY - 2, max: MAX_GLANCES_PER_DAY + 2 }), fc.integer({ min: Math.floor(MAX_GLANCES_PER_DAY / 24) - 1, max: Math.floor(MAX_GLANCES_PER_DAY / 24) + 2 }));
    checkProperty(
      "glanceRate reads rates and stays within 0…MAX",
      fc.property(count, fc.constantFrom("d", "day", "h", "hour"), fc.constantFrom("", " "), (n, unit, blank) => {
        const outcome = run(glanceRate, `${blank}${n}${blank}/${blank}${unit}${blank}`);
        const perDay = unit.startsWith("h") ? n * 24 : n;
        expect(outcome.ok).toBe(perDay <= MAX_GLANCES_PER_DAY);
        if (outcome.ok) expect(outcome.value).toBe(perDay);
      }),
      1_500,
    );
    checkProperty(
      "glanceRate never throws but a usage error",
      fc.property(optionLike(), (value) => {
        const outcome = run(glanceRate, value);
        if (outcome.ok) expect(outcome.value >= 0 && outcome.value <= MAX_GLANCES_PER_DAY).toBe(true);
      }),
      1_500,
    );
  });
});

describe("watch target, qualified names, receivers", () => {
  it("accept only what they document", () => {
    const prefixed = fc.tuple(fc.constantFrom("adb:", "adb", "emulated", ".", "com.", ""), anyString(12)).map(([prefix, rest]) => `${prefix}${rest}`);
    checkProperty(
      "watchTarget/qualifiedName/receiverClass accept only documented forms",
      fc.property(fc.oneof(optionLike(), prefixed, stringOf([..."adb:emulator-5554.comExampl_ ."], 0, 24)), (value) => {
        const target = run(watchTarget, value);
        if (target.ok) {
          if (target.value.kind === "adb" && target.value.serial !== undefined) expect(value).toBe(`adb:${target.value.serial}`);
          if (target.value.kind === "adb" && target.value.serial !== undefined) expect(target.value.serial).toMatch(/^[\w.:-]+$/);
          else expect(["emulated", "adb"]).toContain(value);
        }
        const name = run(qualifiedName, value);
        if (name.ok) expect(name.value).toMatch(/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$/);
        const receiver = run(receiverClass, value);
        if (receiver.ok) expect(receiver.value === "" || /^\.?[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/.test(receiver.value)).toBe(true);
      }),
      1_500,
    );
  });
});

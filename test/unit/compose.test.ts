import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { partitionMappings } from "../../src/wire/names.js";
import { buildProgram } from "../../src/cli.js";
import { mappingsBlock } from "../../src/stack/nats-config.js";

/*
 * No Docker engine runs where ecwatch is developed, so the images are never built here (issue
 * 10). Instead, this checks the container files against the code: compose.yaml's commands
 * against the CLI's own parser, its URLs against its services and their ports,
 * deploy/nats.conf against partitionMappings(), and the Dockerfile's shape.
 */

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

interface Service {
  readonly image?: string;
  readonly build?: string | { readonly context?: string; readonly dockerfile?: string };
  readonly entrypoint?: unknown;
  readonly command?: string | readonly string[];
  readonly environment?: Readonly<Record<string, unknown>> | readonly string[];
  readonly ports?: ReadonlyArray<string | number | { readonly target: number }>;
  readonly volumes?: readonly string[];
  readonly healthcheck?: { readonly test?: string | readonly string[] };
  readonly depends_on?: readonly string[] | Readonly<Record<string, { readonly condition?: string }>>;
  readonly container_name?: string;
  readonly hostname?: string;
  readonly network_mode?: string;
}

// Compose resolves `<<: *ecwatch` (YAML merge keys), so the test does too.
const compose = parse(read("compose.yaml"), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const natsConf = read("deploy/nats.conf");
const dockerfile = read("Dockerfile");

/** The services that run the ecwatch image, and the command each must run. */
const ECWATCH_SERVICES = { aggregator: "aggregate", api: "serve", sim: "sim" } as const;

function service(name: string): Service {
  const found = services[name];
  if (!found) throw new Error(`compose.yaml has no service ${name}`);
  return found;
}

/** A service's command as the argv compose passes (a string is split on spaces, as compose does for simple ones). */
const commandOf = (s: Service): string[] => (typeof s.command === "string" ? s.command.trim().split(/\s+/) : [...(s.command ?? [])]);

const environmentValues = (s: Service): string[] =>
  Array.isArray(s.environment) ? s.environment.map((entry) => String(entry).replace(/^[^=]*=/, "")) : Object.values(s.environment ?? {}).map(String);

/** Container ports of `ports:` ("[ip:][host:]container[/proto]" or the long form). */
const containerPorts = (s: Service): number[] =>
  (s.ports ?? []).map((port) => (typeof port === "object" ? port.target : Number(String(port).split(":").at(-1)!.split("/")[0])));

const healthcheckText = (s: Service): string => [s.healthcheck?.test ?? []].flat().join(" ");

const dependencies = (s: Service): Record<string, string | undefined> =>
  Array.isArray(s.depends_on)
    ? Object.fromEntries(s.depends_on.map((name) => [name, undefined]))
    : Object.fromEntries(Object.entries(s.depends_on ?? {}).map(([name, dependency]) => [name, dependency.condition]));

/** Every URL in a service's command line and environment (a comma-separated list counts as several). */
function urlsOf(s: Service): URL[] {
  return [...commandOf(s), ...environmentValues(s)]
    .flatMap((value) => value.split(","))
    .filter((value) => /^[a-z][a-z0-9+.-]*:\/\//i.test(value))
    .map((value) => new URL(value));
}

interface ParsedCommand {
  readonly name: string;
  readonly options: Record<string, unknown>;
}

/**
 * Parses `ecwatch <argv>` with the real program — its commands, flags and value parsers — but
 * runs no action: each command's action is replaced by one that records what it was given.
 * (Spawning `ecwatch <command> <flags> --help` would prove less: commander prints the help
 * before it looks for unknown options, so `serve --prot 8000 --help` exits 0.)
 */
async function parseCli(argv: readonly string[]): Promise<ParsedCommand> {
  const program = buildProgram();
  let parsed: ParsedCommand | undefined;
  const quiet = { writeOut: () => undefined, writeErr: () => undefined };
  program.exitOverride().configureOutput(quiet);
  for (const command of program.commands) {
    command
      .exitOverride()
      .configureOutput(quiet)
      .action(() => {
        parsed = { name: command.name(), options: command.opts() };
      });
  }
  // Rejects with commander's message (unknown option, bad value, unknown command).
  await program.parseAsync([...argv], { from: "user" });
  if (!parsed) throw new Error(`\`ecwatch ${argv.join(" ")}\` runs no command`);
  return parsed;
}

/** A `key: value` line of nats.conf at the top level (no indentation). */
function topLevel(key: string): string | undefined {
  return new RegExp(`^${key}\\s*[:=]\\s*"?([^"\\n]*)"?\\s*$`, "m").exec(natsConf)?.[1];
}

/** The bodies of nats.conf's top-level `name { … }` blocks (closed by a `}` at the start of a line: a mapping holds braces itself). */
function blocks(name: string): string[] {
  return [...natsConf.matchAll(new RegExp(`^${name}\\s*\\{([\\s\\S]*?)^\\}`, "gm"))].map((match) => match[1]!);
}

/** The `listen` port of a block of nats.conf such as `mqtt { … }`. */
function blockListenPort(block: string): number | undefined {
  const body = blocks(block)[0] ?? "";
  const port = /listen\s*[:=]\s*"?[^"\s]*:(\d+)"?/.exec(body)?.[1] ?? /port\s*[:=]\s*(\d+)/.exec(body)?.[1];
  return port === undefined ? undefined : Number(port);
}

/** Where each server of the file listens, from its own configuration. */
async function listeningPorts(): Promise<{ nats: number; mqtt: number; natsMonitor: number; redis: number; api: number }> {
  const redisCommand = commandOf(service("redis"));
  const redisPortFlag = redisCommand.indexOf("--port");
  const serve = await parseCli(commandOf(service("api")));
  return {
    nats: Number(topLevel("port") ?? 4222),
    mqtt: blockListenPort("mqtt") ?? Number.NaN,
    natsMonitor: Number(topLevel("http_port") ?? Number.NaN),
    redis: redisPortFlag === -1 ? 6379 : Number(redisCommand[redisPortFlag + 1]),
    api: serve.options.port as number,
  };
}

describe("compose.yaml", () => {
  it.each(Object.entries(ECWATCH_SERVICES))("%s runs `ecwatch %s` from the repository's image, with flags the CLI accepts", async (name, expected) => {
    const s = service(name);
    const context = typeof s.build === "string" ? s.build : s.build?.context;
    expect(context, "built from the repository root (./Dockerfile)").toBe(".");
    expect(typeof s.build === "object" ? s.build.dockerfile : undefined).toBeUndefined();
    // The image's ENTRYPOINT (node bin/ecwatch) must stay, so that `command` is an ecwatch command line.
    expect(s.entrypoint).toBeUndefined();
    const parsed = await parseCli(commandOf(s));
    expect(parsed.name).toBe(expected);
  });

  it("runs ecwatch in no service but those three", () => {
    const withImage = Object.entries(services).filter(([, s]) => s.build !== undefined || s.image === service("api").image);
    expect(withImage.map(([name]) => name).sort()).toEqual(Object.keys(ECWATCH_SERVICES).sort());
  });

  it("points every URL at a service of the file, on the port that service listens on", async () => {
    const ports = await listeningPorts();
    /** Which service and port a URL of each scheme must name. */
    const expected: Record<string, { service: string; port: number }> = {
      "nats:": { service: "nats", port: ports.nats },
      "mqtt:": { service: "nats", port: ports.mqtt },
      "redis:": { service: "redis", port: ports.redis },
      "http:": { service: "api", port: ports.api },
    };
    const urls = Object.values(services).flatMap(urlsOf);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) {
      const want = expected[url.protocol];
      expect(want, `a URL compose.yaml can point at: ${url}`).toBeDefined();
      expect(Object.keys(services), `the host of ${url}`).toContain(url.hostname);
      expect(`${url.hostname}:${url.port}`, `${url}`).toBe(`${want!.service}:${want!.port}`);
    }
    // The aggregator and the API both reach NATS and Redis (no fallback to a default that would be the container itself).
    for (const name of ["aggregator", "api"]) {
      expect(urlsOf(service(name)).map(String).sort()).toEqual(["nats://nats:4222", "redis://redis:6379"]);
    }
    expect(urlsOf(service("sim")).map(String)).toEqual(["nats://nats:4222"]);
  });

  it("publishes the ports the servers listen on, and asks each healthcheck on its own port", async () => {
    const ports = await listeningPorts();
    expect(ports).toMatchObject({ nats: 4222, mqtt: 1883, redis: 6379, api: 8000 });
    expect(containerPorts(service("api"))).toEqual([ports.api]);
    expect(containerPorts(service("nats")).sort()).toEqual([ports.mqtt, ports.nats].sort());
    expect(healthcheckText(service("api"))).toContain(`http://127.0.0.1:${ports.api}/healthz`);
    expect(healthcheckText(service("nats"))).toContain(`http://127.0.0.1:${ports.natsMonitor}/healthz`);
  });

  it("the API listens beyond loopback and takes its token from a variable compose requires", async () => {
    const serve = await parseCli(commandOf(service("api")));
    expect(serve.options.host).toBe("0.0.0.0");
    expect(service("api").environment).toMatchObject({ ECWATCH_TOKEN: expect.stringMatching(/^\$\{ECWATCH_TOKEN:\?[^}]+\}$/) });
  });

  it("starts ecwatch only once NATS and Redis are healthy, and waits only on services with a healthcheck", () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [dependency, condition] of Object.entries(dependencies(s))) {
        expect(Object.keys(services), `${name} depends on`).toContain(dependency);
        if (condition === "service_healthy") expect(healthcheckText(service(dependency)), `the healthcheck of ${dependency}, which ${name} waits for`).toMatch(/^CMD/);
      }
    }
    for (const name of ["aggregator", "api"]) expect(dependencies(service(name))).toEqual({ nats: "service_healthy", redis: "service_healthy" });
    expect(dependencies(service("sim"))).toMatchObject({ nats: "service_healthy" });
  });

  it("lets the aggregator run as several replicas", () => {
    const aggregator = service("aggregator");
    // Either would stop `--scale aggregator=3`; one hostname for all would make a lease's
    // liveness check (same host → look the pid up) take a live aggregator for a dead one.
    expect(aggregator.container_name).toBeUndefined();
    expect(aggregator.ports).toBeUndefined();
    expect(aggregator.hostname).toBeUndefined();
    expect(aggregator.network_mode).toBeUndefined();
  });
});

describe("deploy/nats.conf", () => {
  it("has exactly ecwatch's partition mappings", () => {
    expect(natsConf).toContain(mappingsBlock(partitionMappings()));
    const mappings = blocks("mappings");
    expect(mappings).toHaveLength(1);
    const entries = [...mappings[0]!.matchAll(/^\s*"([^"]+)"\s*:\s*"([^"]+)"\s*$/gm)].map(([, source, destination]) => [source, destination]);
    expect(Object.fromEntries(entries)).toEqual(partitionMappings());
  });

  it("enables JetStream on the mounted volume, and MQTT with a server name", () => {
    expect(blocks("jetstream")).toEqual([expect.stringMatching(/store_dir\s*[:=]\s*"\/data"/)]);
    expect(service("nats").volumes).toContain("nats-data:/data");
    expect(topLevel("server_name")).toMatch(/^\S+$/);
    expect(blockListenPort("mqtt")).toBe(1883);
  });

  it("is the file the nats service mounts and starts with", () => {
    const nats = service("nats");
    const mount = nats.volumes?.find((volume) => volume.startsWith("./deploy/nats.conf:"));
    const inContainer = mount?.split(":")[1];
    expect(inContainer).toBeDefined();
    expect(commandOf(nats).join(" ")).toContain(`--config ${inContainer}`);
  });
});

describe("Dockerfile", () => {
  /** Instructions with continuation lines joined, comments and the parser directive dropped. */
  const instructions = dockerfile
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const [keyword = "", ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
    });
  const stageStarts = instructions.flatMap((instruction, index) => (instruction.keyword === "FROM" ? [index] : []));
  const runtime = instructions.slice(stageStarts.at(-1));
  const build = instructions.slice(stageStarts[0], stageStarts.at(-1));

  it("builds in a node:20-bookworm-slim stage and runs in another", () => {
    expect(stageStarts.length).toBeGreaterThanOrEqual(2);
    for (const start of [stageStarts[0]!, stageStarts.at(-1)!]) expect(instructions[start]!.args).toMatch(/^node:20-bookworm-slim\b/);
    const buildRuns = build.filter((i) => i.keyword === "RUN").map((i) => i.args);
    expect(buildRuns.join("\n")).toMatch(/npm ci/);
    expect(buildRuns.join("\n")).toMatch(/npm run build/);
    expect(buildRuns.join("\n")).toMatch(/npm prune --omit=dev/);
  });

  it("copies into the runtime image only what ecwatch runs", () => {
    const copied = runtime
      .filter((i) => i.keyword === "COPY")
      .flatMap((i) => i.args.split(/\s+/).filter((word) => !word.startsWith("--")).slice(0, -1))
      .map((source) => source.replace(/^\/app\//, "").replace(/\/$/, ""));
    expect(copied.sort()).toEqual(["bin", "dist", "fixtures", "node_modules", "package.json"]);
  });

  it("runs bin/ecwatch as a user other than root", () => {
    const user = runtime.filter((i) => i.keyword === "USER").at(-1)?.args;
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const entrypoint = runtime.filter((i) => i.keyword === "ENTRYPOINT").at(-1)?.args;
    expect(JSON.parse(entrypoint ?? "null")).toEqual(["node", "bin/ecwatch"]);
  });
});

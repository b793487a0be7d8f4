import { resolveEndpoint } from "../config/connection-settings.js";
import { programVersion, which, type ServerProgram } from "../stack/binaries.js";
import { isPortFree } from "../stack/ports.js";
import { runningStack, STATE_DIR } from "../stack/state-file.js";
import { redactUrl } from "../url.js";
import { type ApiHealth, type BusProbe, type CacheProbe, probeApi, probeNats, probeRedis } from "./probes.js";
import { type Check, type Target, LOOPBACK, SERVICES, binaryCheck, endpointSource, expectRunning, natsVersionNote, nodeCheck, portCheck, unreachableCheck } from "./verdicts.js";
import type { CoreEndpoint } from "../config/connection-settings.js";

export type { Check } from "./verdicts.js";

export interface DoctorTargets {
  readonly nats?: string;
  readonly redis?: string;
  readonly api?: string;
  /** Connects to the bus at a URL, as doctor looks at it (app/ builds it, with the credentials and TLS besides the URL's own). */
  readonly busAt: (url: string) => Promise<BusProbe>;
  /** Connects to the cache at a URL, likewise. */
  readonly cacheAt: (url: string) => Promise<CacheProbe>;
  /** The API at a URL, as doctor asks it (app/ passes the HTTP API client). */
  readonly apiAt: (url: string) => ApiHealth;
}

/** `noted`: the nats-server line already explained what 2.9 lacks, so it is not said twice. */
function reachableCheck(endpoint: CoreEndpoint, url: string, serverVersion: string | undefined, noted: boolean): Check {
  const note = endpoint === "nats" && !noted ? natsVersionNote(serverVersion) : undefined;
  const version = serverVersion ? `, server ${serverVersion}` : "";
  const healthy = endpoint === "api" ? ", healthy" : "";
  return { name: SERVICES[endpoint].label, status: "ok", detail: `${redactUrl(url)}${version}${healthy}${note ? ` (${note})` : ""}` };
}

/** Runs every check, the slow ones in parallel, and returns them in a stable order. */
export async function runChecks(flags: DoctorTargets, env: NodeJS.ProcessEnv = process.env, stateDir: string = STATE_DIR): Promise<Check[]> {
  const stack = runningStack(stateDir);
  const endpoints = ["nats", "redis", "api"] as const;
  const targets = endpoints.map((endpoint): Target => ({
    url: resolveEndpoint(endpoint, flags[endpoint], env, stateDir),
    source: endpointSource(endpoint, flags[endpoint], env, stack),
  }));
  // Ports first: a port probe listens on the port for a moment, and a connection made to
  // the default URL meanwhile would reach the probe instead of a server.
  const ports = await Promise.all(endpoints.map((endpoint) => isPortFree(SERVICES[endpoint].port, LOOPBACK)));
  const [probes, natsServer, redisServer] = await Promise.all([
    Promise.all([probeNats(() => flags.busAt(targets[0]!.url)), probeRedis(() => flags.cacheAt(targets[1]!.url)), probeApi(targets[2]!.url, flags.apiAt(targets[2]!.url))]),
    installed("nats-server"),
    installed("redis-server"),
  ]);
  // `up` starts a local server only for a kind nobody pointed at and none answers.
  const needsLocal = (i: number) => targets[i]!.source === "default" && !probes[i]!.reachable;
  const expected = expectRunning(targets.map((target) => target.source), probes.some((probe) => probe.reachable));

  const checks: Check[] = [
    nodeCheck(process.versions.node),
    { name: "stack", status: "ok", detail: stack ? `\`ecwatch up\` running since ${stack.startedAt} (pid ${stack.pid})` : "no `ecwatch up` running in this directory" },
    binaryCheck("nats-server", natsServer.path, natsServer.version, needsLocal(0)),
    binaryCheck("redis-server", redisServer.path, redisServer.version, needsLocal(1)),
    ...endpoints.map((endpoint, i) => portCheck(endpoint, ports[i]!, stack)),
  ];
  endpoints.forEach((endpoint, i) => {
    const [target, probe] = [targets[i]!, probes[i]!];
    if (!probe.reachable) checks.push(unreachableCheck(endpoint, target, expected, probe.reason, probe.failure));
    else checks.push(probe.unhealthy ?? reachableCheck(endpoint, target.url, probe.version, natsVersionNote(natsServer.version) !== undefined), ...probe.checks);
  });
  return checks;
}

async function installed(program: ServerProgram): Promise<{ path?: string; version?: string }> {
  const path = which(program);
  return { path, version: path ? await programVersion(path) : undefined };
}

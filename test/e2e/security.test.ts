import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/stack/ports.js";
import { CliProcess, runCli } from "../helpers/cli.js";
import { type Certificates, makeCertificates, startSecureNats, startSecureRedis, type TestServer } from "../helpers/secure-servers.js";

// Issue 10, as a user runs ecwatch: an exposed API needs a token, and no secret is ever printed or stored.

const NATS_PASS = "e2e-n4ts-pa55";
const REDIS_PASS = "e2e-red1s-pa55";
const TOKEN = "e2e-api-t0ken";
const SECRETS = [NATS_PASS, REDIS_PASS, TOKEN];

let dir: string;
let certs: Certificates;
let nats: TestServer;
let redis: TestServer;
let natsUrl: string;
let redisUrl: string;
/** The CA files as flags, for every command that connects. */
let caFlags: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ecwatch-e2e-secure-"));
  certs = makeCertificates(join(dir, "certs"));
  [nats, redis] = await Promise.all([
    startSecureNats(join(dir, "nats"), { user: "meter-gw", pass: NATS_PASS, tls: certs }),
    startSecureRedis(join(dir, "redis"), { users: { ecwatch: REDIS_PASS }, tls: certs }),
  ]);
  natsUrl = `tls://meter-gw:${NATS_PASS}@127.0.0.1:${nats.port}`;
  redisUrl = `rediss://ecwatch:${REDIS_PASS}@127.0.0.1:${redis.port}`;
  caFlags = ["--nats-tls-ca", certs.ca, "--redis-tls-ca", certs.ca];
});

afterAll(async () => {
  await Promise.all([nats?.stop(), redis?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const workdir = (): string => mkdtempSync(join(dir, "work-"));

function expectNoSecret(...texts: string[]): void {
  for (const text of texts) for (const secret of SECRETS) expect(text, `${secret} was printed`).not.toContain(secret);
}

/** No stack trace: the one sentence and its fix, nothing else. */
function expectOneSentence(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr.trim().split("\n").length).toBeLessThanOrEqual(2);
  expect(stderr).toMatch(/^ecwatch: [^\n]+\.\n/);
}

describe("an API on an address other than loopback", () => {
  it.each([
    [["serve", "--host", "0.0.0.0", "--port", "0"]],
    [["up", "--host", "0.0.0.0", "--port", "0", "--communities", "0"]],
  ])("`%j` without a token refuses to start (exit 2), naming --token", async (args) => {
    const cwd = workdir();
    const run = await runCli(args, { cwd, env: { ECWATCH_TOKEN: "" } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--token");
    expectOneSentence(run.stderr);
    // Refused before anything started.
    expect(existsSync(join(cwd, ".ecwatch"))).toBe(false);
  });

  it("`serve --host 0.0.0.0` starts with ECWATCH_TOKEN and wants it on POSTs only", async () => {
    const port = await freePort("0.0.0.0");
    const serve = new CliProcess(["serve", "--workers", "1", "--host", "0.0.0.0", "--port", String(port), "--nats", natsUrl, "--redis", redisUrl, ...caFlags], { cwd: workdir(), env: { ECWATCH_TOKEN: TOKEN } });
    try {
      await serve.waitForStderr(/^serving http:\/\/0\.0\.0\.0:\d+/m);
      const api = `http://127.0.0.1:${port}`;
      const body = JSON.stringify({ communityId: "exposed1", genW: 10, conW: 5 });
      const headers = { "content-type": "application/json" };
      const refused = await fetch(`${api}/communities/`, { method: "POST", headers, body });
      expect(refused.status).toBe(401);
      expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect((await fetch(`${api}/communities/`, { method: "POST", headers: { ...headers, authorization: `Bearer ${TOKEN}` }, body })).status).toBe(200);
      expect((await fetch(`${api}/communities`)).status).toBe(200);
    } finally {
      serve.kill("SIGINT");
      const run = await serve.exited;
      expect(run.code).toBe(0);
      expectNoSecret(run.stdout, run.stderr);
    }
  });
});

describe("secrets are never printed or stored", () => {
  it("up, doctor and serve with credentials in the URLs print none, and .ecwatch/state.json holds none", async () => {
    const cwd = workdir();
    const up = new CliProcess(["up", "--communities", "1", "--meters", "2", "--port", "0", "--json", "--nats", natsUrl, "--redis", redisUrl, "--token", TOKEN, ...caFlags], { cwd });
    try {
      const [line] = await up.waitForStdout(/^\{"ready":true.*\}$/m);
      const ready = JSON.parse(line) as { api: string; nats: string; redis: string };
      expect(ready.nats).toBe(`tls://***@127.0.0.1:${nats.port}`);
      expect(ready.redis).toBe(`rediss://***@127.0.0.1:${redis.port}`);
      const state = readFileSync(join(cwd, ".ecwatch", "state.json"), "utf8");
      expectNoSecret(state);
      expect(JSON.parse(state)).toMatchObject({ nats: `tls://127.0.0.1:${nats.port}`, redis: `rediss://127.0.0.1:${redis.port}` });

      // The simulator of up publishes through the authenticated TLS connection.
      await expect
        .poll(async () => (await fetch(`${ready.api}/communities/community1`)).status, { timeout: 15_000, interval: 200 })
        .toBe(200);

      for (const json of [[], ["--json"]]) {
        const doctor = await runCli(["doctor", "--nats", natsUrl, "--redis", redisUrl, "--api", ready.api, ...caFlags, ...json], { cwd });
        expectNoSecret(doctor.stdout, doctor.stderr);
        expect(doctor.stdout).toContain(`tls://***@127.0.0.1:${nats.port}`);
        if (json.length) {
          const report = JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string }> };
          for (const name of ["NATS", "Redis", "API"]) expect(report.checks.find((check) => check.name === name)?.status).toBe("ok");
        }
      }

      // Another command finds the stack but not its credentials: it says so without any.
      const doctorFromState = await runCli(["doctor", "--json", ...caFlags], { cwd });
      expectNoSecret(doctorFromState.stdout, doctorFromState.stderr);
      const natsCheck = (JSON.parse(doctorFromState.stdout) as { checks: Array<{ name: string; status: string; fix?: string }> }).checks.find((check) => check.name === "NATS");
      expect(natsCheck).toMatchObject({ status: "fail", fix: expect.stringContaining("credentials") });

      const serve = new CliProcess(["serve", "--workers", "1", "--port", "0", "--nats", natsUrl, "--redis", redisUrl, "--token", TOKEN, ...caFlags], { cwd });
      try {
        await serve.waitForStderr(/^serving http/m);
      } finally {
        serve.kill("SIGINT");
        const run = await serve.exited;
        expect(run.code).toBe(0);
        expectNoSecret(run.stdout, run.stderr);
      }
    } finally {
      up.kill("SIGINT");
      const run = await up.exited;
      expect(run.code).toBe(0);
      expectNoSecret(run.stdout, run.stderr);
    }
  });

  it("a wrong NATS password is one sentence with the fix (exit 1), without the password or a stack trace", async () => {
    const wrong = natsUrl.replace(NATS_PASS, `${NATS_PASS}-typo`);
    const run = await runCli(["sim", "--nats", wrong, "--duration", "1s", ...caFlags.slice(0, 2)], { cwd: workdir() });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Cannot connect to NATS at tls://***@127.0.0.1:${nats.port} (Authorization Violation).`);
    expect(run.stderr).toContain("user and password");
    expectOneSentence(run.stderr);
    expectNoSecret(run.stdout, run.stderr);
  });

  it("a wrong Redis password is one sentence with the fix (exit 1), without the password", async () => {
    const wrong = redisUrl.replace(REDIS_PASS, `${REDIS_PASS}-typo`);
    const run = await runCli(["aggregate", "--nats", natsUrl, "--redis", wrong, ...caFlags], { cwd: workdir() });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Cannot connect to Redis at rediss://***@127.0.0.1:${redis.port} (WRONGPASS`);
    expectOneSentence(run.stderr);
    expectNoSecret(run.stdout, run.stderr);
  });

  it("a usage error does not quote the password of the URL it refuses", async () => {
    const run = await runCli(["serve", "--nats", `http://meter-gw:${NATS_PASS}@127.0.0.1:4222`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--nats");
    expectNoSecret(run.stdout, run.stderr);
  });
});

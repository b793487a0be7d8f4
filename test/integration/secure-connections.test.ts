import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nkeys } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectNats } from "../../src/nats/connect.js";
import { openBus } from "../../src/nats/bus.js";
import type { NatsSecurity } from "../../src/nats/nats-auth.js";
import { RedisCache, type RedisSecurity } from "../../src/redis/redis-cache.js";
import type { Aggregate } from "../../src/domain/aggregate.js";
import { EcwatchError } from "../../src/errors.js";
import { startAggregation, startApi } from "../../src/app/services.js";
import { type Certificates, makeCertificates, startSecureNats, startSecureRedis, type TestServer } from "../helpers/secure-servers.js";
import { eventually } from "../helpers/stack.js";

// Issue 10: credentials and TLS on every connection to real nats-server and redis-server.

const NATS_PASS = "n4ts-pa55-x1";
const NATS_TOKEN = "n4ts-t0ken-x2";
const REDIS_PASS = "red1s-pa55-x3";
const ACL_PASS = "acl-pa55-x4";

let dir: string;
let certs: Certificates;
const servers: TestServer[] = [];
let natsUserPass: TestServer;
let natsToken: TestServer;
let natsNkey: TestServer;
let natsTls: TestServer;
let redisAuth: TestServer;
let redisTls: TestServer;
let seedFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ecwatch-secure-"));
  certs = makeCertificates(join(dir, "certs"));
  const user = nkeys.createUser();
  seedFile = join(dir, "user.nk");
  writeFileSync(seedFile, `${new TextDecoder().decode(user.getSeed())}\n`);
  const nkeyConfig = join(dir, "nkey.conf");
  writeFileSync(nkeyConfig, `authorization { users = [ { nkey: "${user.getPublicKey()}" } ] }\n`);
  const started = await Promise.all([
    startSecureNats(join(dir, "nats-userpass"), { user: "alice", pass: NATS_PASS }),
    startSecureNats(join(dir, "nats-token"), { token: NATS_TOKEN }),
    startSecureNats(join(dir, "nats-nkey"), { config: nkeyConfig }),
    startSecureNats(join(dir, "nats-tls"), { user: "alice", pass: NATS_PASS, tls: certs }),
    startSecureRedis(join(dir, "redis-auth"), { password: REDIS_PASS, users: { meterapp: ACL_PASS } }),
    startSecureRedis(join(dir, "redis-tls"), { users: { meterapp: ACL_PASS }, tls: certs }),
  ]);
  servers.push(...started);
  [natsUserPass, natsToken, natsNkey, natsTls, redisAuth, redisTls] = started as [TestServer, TestServer, TestServer, TestServer, TestServer, TestServer];
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The EcwatchError a connection attempt fails with (the test fails if it connects). */
async function natsFailure(url: string, security: NatsSecurity = {}): Promise<EcwatchError> {
  const nc = await connectNats(url, "test-secure", security).catch((err: unknown) => err);
  if (!(nc instanceof EcwatchError)) {
    if (nc && typeof nc === "object" && "close" in nc) await (nc as { close(): Promise<void> }).close();
    throw new Error(`expected ${url} to be refused, but got ${String(nc)}`);
  }
  return nc;
}

async function redisFailure(url: string, security: RedisSecurity = {}): Promise<EcwatchError> {
  const cache = await RedisCache.connect(url, security).catch((err: unknown) => err);
  if (!(cache instanceof EcwatchError)) {
    if (cache instanceof RedisCache) await cache.close();
    throw new Error(`expected ${url} to be refused, but got ${String(cache)}`);
  }
  return cache;
}

async function natsWorks(url: string, security: NatsSecurity = {}): Promise<boolean> {
  const bus = await openBus(url, "test-secure", security);
  try {
    // JetStream answers through the authenticated connection.
    return (await bus.jsm.getAccountInfo()).limits !== undefined;
  } finally {
    await bus.close();
  }
}

async function redisWorks(url: string, security: RedisSecurity = {}): Promise<string> {
  const cache = await RedisCache.connect(url, security);
  try {
    await cache.redis.set("ecwatch-test", "ok");
    return (await cache.redis.get("ecwatch-test")) ?? "";
  } finally {
    await cache.close();
  }
}

describe("NATS credentials", () => {
  it("connects with user and password from the URL", async () => {
    expect(await natsWorks(`nats://alice:${NATS_PASS}@127.0.0.1:${natsUserPass.port}`)).toBe(true);
  });

  it("refuses a wrong or missing password with one sentence that names the fix and not the password", async () => {
    const wrong = await natsFailure(`nats://alice:not-${NATS_PASS}@127.0.0.1:${natsUserPass.port}`);
    expect(wrong.code).toBe("NATS_AUTH_FAILED");
    expect(wrong.message).toBe(`Cannot connect to NATS at nats://***@127.0.0.1:${natsUserPass.port} (Authorization Violation).`);
    expect(wrong.hint).toContain("user and password");
    expect(`${wrong.message} ${wrong.hint}`).not.toContain(NATS_PASS);
    expect((await natsFailure(`nats://127.0.0.1:${natsUserPass.port}`)).code).toBe("NATS_AUTH_FAILED");
  });

  it("connects with a token from the URL, and not with another", async () => {
    expect(await natsWorks(`nats://${NATS_TOKEN}@127.0.0.1:${natsToken.port}`)).toBe(true);
    expect((await natsFailure(`nats://other-${NATS_TOKEN}@127.0.0.1:${natsToken.port}`)).code).toBe("NATS_AUTH_FAILED");
  });

  it("connects with an nkey seed file, and not without it", async () => {
    expect(await natsWorks(`nats://127.0.0.1:${natsNkey.port}`, { credsFile: seedFile })).toBe(true);
    expect((await natsFailure(`nats://127.0.0.1:${natsNkey.port}`)).code).toBe("NATS_AUTH_FAILED");
  });

  it("says which file it cannot read or understand (exit 2)", async () => {
    const missing = await natsFailure(`nats://127.0.0.1:${natsNkey.port}`, { credsFile: join(dir, "nope.creds") }).catch((err: unknown) => err as EcwatchError);
    expect(missing.exitCode).toBe(2);
    expect(missing.message).toContain("nope.creds");
    const junk = join(dir, "junk.creds");
    writeFileSync(junk, "not a key\n");
    expect((await natsFailure(`nats://127.0.0.1:${natsNkey.port}`, { credsFile: junk })).message).toContain("neither a user JWT");
  });
});

describe("NATS over TLS", () => {
  const url = (scheme: string, credentials = `alice:${NATS_PASS}@`) => `${scheme}://${credentials}127.0.0.1:${natsTls.port}`;

  it("connects to tls:// with the CA file, with the URL's credentials", async () => {
    expect(await natsWorks(url("tls"), { tlsCaFile: certs.ca })).toBe(true);
    // A nats:// URL to a server that demands TLS is upgraded too, once the CA is known.
    expect(await natsWorks(url("nats"), { tlsCaFile: certs.ca })).toBe(true);
  });

  it("refuses a certificate it cannot verify, and says to pass the CA", async () => {
    const refused = await natsFailure(url("tls"));
    expect(refused.code).toBe("NATS_TLS_FAILED");
    expect(refused.hint).toContain("--nats-tls-ca");
  });

  it("does not fall back to plain text when tls:// was asked for", async () => {
    // The password would otherwise cross the network in the clear.
    const plain = `tls://alice:${NATS_PASS}@127.0.0.1:${natsUserPass.port}`;
    expect((await natsFailure(plain)).code).toBe("NATS_TLS_FAILED");
    expect((await natsFailure(plain, { tlsCaFile: certs.ca })).code).toBe("NATS_TLS_FAILED");
  });
});

describe("Redis credentials", () => {
  it("connects with the password, or an ACL user and its password, from the URL", async () => {
    expect(await redisWorks(`redis://:${REDIS_PASS}@127.0.0.1:${redisAuth.port}`)).toBe("ok");
    expect(await redisWorks(`redis://meterapp:${ACL_PASS}@127.0.0.1:${redisAuth.port}`)).toBe("ok");
  });

  it("refuses a wrong or missing password with one sentence that names the fix and not the password", async () => {
    const wrong = await redisFailure(`redis://meterapp:not-${ACL_PASS}@127.0.0.1:${redisAuth.port}`);
    expect(wrong.code).toBe("REDIS_AUTH_FAILED");
    expect(wrong.message).toMatch(new RegExp(`^Cannot connect to Redis at redis://\\*\\*\\*@127\\.0\\.0\\.1:${redisAuth.port} \\(WRONGPASS`));
    expect(`${wrong.message} ${wrong.hint}`).not.toContain(ACL_PASS);
    expect((await redisFailure(`redis://127.0.0.1:${redisAuth.port}`)).code).toBe("REDIS_AUTH_FAILED");
  });
});

describe("Redis over TLS", () => {
  it("connects to rediss:// with the CA file, and a CA file turns TLS on for redis:// too", async () => {
    expect(await redisWorks(`rediss://meterapp:${ACL_PASS}@127.0.0.1:${redisTls.port}`, { tlsCaFile: certs.ca })).toBe("ok");
    expect(await redisWorks(`redis://meterapp:${ACL_PASS}@127.0.0.1:${redisTls.port}`, { tlsCaFile: certs.ca })).toBe("ok");
  });

  it("refuses a certificate it cannot verify, and says to pass the CA", async () => {
    const refused = await redisFailure(`rediss://meterapp:${ACL_PASS}@127.0.0.1:${redisTls.port}`);
    expect(refused.code).toBe("REDIS_TLS_FAILED");
    expect(refused.hint).toContain("--redis-tls-ca");
  });
});

describe("the services", () => {
  it("aggregate and serve over TLS with credentials on both connections", async () => {
    const natsUrl = `tls://alice:${NATS_PASS}@127.0.0.1:${natsTls.port}`;
    const redisUrl = `rediss://meterapp:${ACL_PASS}@127.0.0.1:${redisTls.port}`;
    const security = { nats: { tlsCaFile: certs.ca }, redis: { tlsCaFile: certs.ca } };
    const aggregation = await startAggregation(natsUrl, redisUrl, { staleAfterMs: 30_000, security });
    const api = await startApi(natsUrl, redisUrl, "127.0.0.1", 0, { security }).catch(async (err: unknown) => {
      await aggregation.stop();
      throw err;
    });
    try {
      const posted = await fetch(`${api.url}/communities/`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ communityId: "secure1", genW: 4200, conW: 1200, measuredAt: "2026-11-22T12:00:00Z" }),
      });
      expect(posted.status).toBe(200);
      const aggregate = await eventually(async () => {
        const res = await fetch(`${api.url}/communities/secure1`);
        return res.ok ? ((await res.json()) as Aggregate) : undefined;
      }, 15_000, "the aggregate through the TLS stack");
      expect(aggregate).toMatchObject({ genW: 4200, conW: 1200, netW: 3000 });
      // Served from Redis: the API's Redis connection works over TLS with the ACL user too.
      expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    } finally {
      await api.stop();
      await aggregation.stop();
    }
  });
});

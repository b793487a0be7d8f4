import { errors } from "@nats-io/transport-node";
import { ReplyError } from "ioredis";
import { Command, Option } from "commander";
import { describe, expect, it } from "vitest";
import { rate } from "../../src/cli/options.js";
import { natsKeyFile, natsServers } from "../../src/nats/nats-auth.js";
import { accessFromFlags } from "../../src/cli/api-access.js";
import { resolveSecurity, resolveToken, securityEnv } from "../../src/config/connection-settings.js";
import { connectFailure } from "../../src/connect-failure.js";
import { ExitCode, UsageError } from "../../src/errors.js";
import { redactSecrets, redactUrl, withoutCredentials } from "../../src/url.js";

const SEED = "SUAKYRHVIOREXV7EUZTBHUHL7NUMHPMAS7QMDU3GTVUWMWIGNAHTE6Q4RY";

describe("natsServers", () => {
  it("takes user and password out of the URL", () => {
    expect(natsServers("nats://alice:s3cret@127.0.0.1:4222")).toEqual({ servers: ["127.0.0.1:4222"], user: "alice", pass: "s3cret", tls: false });
  });

  it("reads a lone user info as a token", () => {
    expect(natsServers("nats://t0ken@nats.example.com:4222")).toEqual({ servers: ["nats.example.com:4222"], token: "t0ken", tls: false });
  });

  it("decodes %-escapes of the credentials", () => {
    expect(natsServers("nats://al%40ice:p%3Ass@h:1")).toMatchObject({ user: "al@ice", pass: "p:ss" });
  });

  it("asks for TLS when any URL is tls://", () => {
    expect(natsServers("tls://h1:4222,nats://h2:4222")).toMatchObject({ servers: ["h1:4222", "h2:4222"], tls: true });
  });

  it("takes the credentials of one URL of a list for all, and refuses URLs that disagree", () => {
    expect(natsServers("nats://u:p@h1:4222,nats://h2:4222")).toMatchObject({ servers: ["h1:4222", "h2:4222"], user: "u", pass: "p" });
    const refused = (() => {
      try {
        natsServers("nats://u:p1@h1:4222,nats://u:p2@h2:4222");
      } catch (err) {
        return err as UsageError;
      }
    })();
    expect(refused).toBeInstanceOf(UsageError);
    expect(refused!.exitCode).toBe(ExitCode.Usage);
    expect(refused!.message).not.toMatch(/p1|p2/);
  });

  it("takes host:port without a scheme, as nats.js does", () => {
    expect(natsServers("127.0.0.1:4222").servers).toEqual(["127.0.0.1:4222"]);
  });
});

describe("natsKeyFile", () => {
  it("knows a .creds file by its JWT block", () => {
    const creds = `-----BEGIN NATS USER JWT-----\neyJ0eXAi.eyJqdGki.sig\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${SEED}\n------END USER NKEY SEED------\n`;
    expect(natsKeyFile(creds)).toEqual({ kind: "creds" });
  });

  it("finds the seed of an nkey seed file", () => {
    expect(natsKeyFile(`${SEED}\n`)).toEqual({ kind: "seed", seed: SEED });
  });

  it("refuses anything else, such as a public key or an account seed", () => {
    expect(natsKeyFile("UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4")).toBeUndefined();
    expect(natsKeyFile(SEED.replace(/^SU/, "SA"))).toBeUndefined();
    expect(natsKeyFile("")).toBeUndefined();
  });
});

describe("connectFailure", () => {
  it.each([
    // The errors as the clients throw them: classified by type (and Node's code), not by message.
    [new errors.AuthorizationError("Authorization Violation"), "auth"],
    [new ReplyError("WRONGPASS invalid username-password pair or user is disabled."), "auth"],
    [new ReplyError("NOAUTH Authentication required."), "auth"],
    [Object.assign(new Error("self-signed certificate in certificate chain"), { code: "SELF_SIGNED_CERT_IN_CHAIN" }), "tls"],
    [Object.assign(new Error("unable to verify the first certificate"), { code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" }), "tls"],
    [new errors.ConnectionError("server does not support 'tls'"), "tls"],
    [new errors.ConnectionError("connection refused"), "unreachable"],
    [Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6379"), { code: "ECONNREFUSED" }), "unreachable"],
    [new Error("wrapped", { cause: new errors.AuthorizationError("Authorization Violation") }), "auth"],
    // A message that only reads like a refusal is no refusal: the type says what happened.
    [new Error("Authorization Violation"), "unreachable"],
    [new ReplyError("ERR unknown command 'authenticate'"), "unreachable"],
    [new errors.ConnectionError("the TLS handshake took too long"), "unreachable"],
  ])("%s is %s", (err, kind) => {
    expect(connectFailure(err)).toBe(kind);
  });
});

describe("what is never printed or stored", () => {
  it("withoutCredentials drops the credentials of every URL of a list", () => {
    expect(withoutCredentials("nats://u:p@h1:4222,nats://tok@h2:4222,nats://h3:4222")).toBe("nats://h1:4222,nats://h2:4222,nats://h3:4222");
    expect(withoutCredentials("rediss://alice:p@ss@redis.example.com:6380/0")).toBe("rediss://redis.example.com:6380/0");
  });

  it("redactUrl and withoutCredentials also handle a URL without a scheme, as NATS_URL may hold", () => {
    expect(redactUrl("alice:s3cret@127.0.0.1:4222,127.0.0.1:4223")).toBe("***@127.0.0.1:4222,127.0.0.1:4223");
    expect(withoutCredentials("alice:s3cret@127.0.0.1:4222")).toBe("127.0.0.1:4222");
    expect(redactUrl("127.0.0.1:4222")).toBe("127.0.0.1:4222");
  });

  it("redactSecrets hides the credentials of URLs inside a sentence", () => {
    const text = "error: option '--nats <url>' argument 'http://alice:s3cret@h:4222' is invalid; also tried redis://:pw@r:6379 and http://h/a@b";
    const redacted = redactSecrets(text);
    expect(redacted).not.toMatch(/s3cret|:pw@/);
    expect(redacted).toContain("'http://***@h:4222'");
    expect(redacted).toContain("redis://***@r:6379");
    expect(redacted).toContain("http://h/a@b");
  });
});

describe("resolveSecurity and resolveToken", () => {
  const env = { NATS_CREDS: "/env/user.creds", NATS_TLS_CA: "/env/nats-ca.pem", REDIS_TLS_CA: "/env/redis-ca.pem", ECWATCH_TOKEN: "env-token" };

  it("takes the flag first, then the environment", () => {
    expect(resolveSecurity({ natsCreds: "/flag/user.creds" }, env)).toEqual({
      nats: { credsFile: "/flag/user.creds", tlsCaFile: "/env/nats-ca.pem" },
      redis: { tlsCaFile: "/env/redis-ca.pem" },
    });
    expect(resolveToken("flag-token", env)).toBe("flag-token");
    expect(resolveToken(undefined, env)).toBe("env-token");
  });

  it("counts an empty value as unset", () => {
    expect(resolveSecurity({}, { NATS_CREDS: "", REDIS_TLS_CA: "" })).toEqual({ nats: {}, redis: {} });
    expect(resolveToken("", { ECWATCH_TOKEN: "" })).toBeUndefined();
  });

  it("hands the files to a child through its environment", () => {
    expect(securityEnv(resolveSecurity({}, env))).toEqual({ NATS_CREDS: "/env/user.creds", NATS_TLS_CA: "/env/nats-ca.pem", REDIS_TLS_CA: "/env/redis-ca.pem" });
  });
});

describe("accessFromFlags", () => {
  const defaults = { rateLimit: 100 } as const;

  it("refuses an address other than loopback without a token, naming --token (exit 2)", () => {
    for (const host of ["0.0.0.0", "::", "192.168.1.10"]) {
      let refused: unknown;
      try {
        accessFromFlags({ ...defaults, host }, {});
      } catch (err) {
        refused = err;
      }
      expect(refused).toBeInstanceOf(UsageError);
      expect((refused as UsageError).message).toContain("--token");
    }
  });

  it("starts on another address with a token from the flag or ECWATCH_TOKEN", () => {
    expect(accessFromFlags({ ...defaults, host: "0.0.0.0", token: "t" }, {}).token).toBe("t");
    expect(accessFromFlags({ ...defaults, host: "0.0.0.0" }, { ECWATCH_TOKEN: "e" }).token).toBe("e");
  });

  it("on loopback, needs no token but keeps one that is given", () => {
    expect(accessFromFlags({ ...defaults, host: "127.0.0.1" }, {}).token).toBeUndefined();
    expect(accessFromFlags({ ...defaults, host: "127.0.0.1", token: "t" }, {}).token).toBe("t");
  });

  it("passes on the rate limit and the CORS origins", () => {
    expect(accessFromFlags({ host: "127.0.0.1", rateLimit: 5, rateBurst: 3, cors: ["https://a.example"] }, {})).toEqual({
      rateLimit: { perSecond: 5, burst: 3 },
      corsOrigins: ["https://a.example"],
    });
    expect(accessFromFlags({ host: "127.0.0.1", rateLimit: "off" }, {}).rateLimit).toBeNull();
  });

  it("reads `--rate-limit off` through commander as off (a parser's null became \"\", and serve refused to start)", () => {
    const program = new Command().exitOverride().addOption(new Option("--rate-limit <rate>").argParser(rate).default(100));
    program.parse(["--rate-limit", "off"], { from: "user" });
    const { rateLimit } = program.opts<{ rateLimit: number | "off" }>();
    expect(accessFromFlags({ host: "127.0.0.1", rateLimit }, {}).rateLimit).toBeNull();
    program.parse(["--rate-limit", "6000/m"], { from: "user" });
    expect(accessFromFlags({ host: "127.0.0.1", rateLimit: program.opts<{ rateLimit: number | "off" }>().rateLimit }, {}).rateLimit).toEqual({ perSecond: 100, burst: 200 });
  });
});

import { describe, expect, it } from "vitest";
import { redactUrl } from "../../src/url.js";

describe("redactUrl", () => {
  it("hides user and password", () => {
    expect(redactUrl("redis://user:secret@127.0.0.1:6379")).toBe("redis://***@127.0.0.1:6379");
  });

  it("hides a password without a user", () => {
    expect(redactUrl("redis://:secret@127.0.0.1:6379/0")).toBe("redis://***@127.0.0.1:6379/0");
  });

  it("hides a token", () => {
    expect(redactUrl("nats://s3cr3t-token@nats.example.com:4222")).toBe("nats://***@nats.example.com:4222");
  });

  it("leaves a URL without credentials unchanged", () => {
    expect(redactUrl("nats://127.0.0.1:4222")).toBe("nats://127.0.0.1:4222");
  });

  it("does not mistake an @ in the path or query for credentials", () => {
    expect(redactUrl("http://127.0.0.1:8000/users/a@b?mail=c@d")).toBe("http://127.0.0.1:8000/users/a@b?mail=c@d");
  });

  it("does not mistake an @ in a query or fragment right after the host for credentials", () => {
    expect(redactUrl("http://127.0.0.1:8000?mail=a@b")).toBe("http://127.0.0.1:8000?mail=a@b");
    expect(redactUrl("http://127.0.0.1:8000#a@b")).toBe("http://127.0.0.1:8000#a@b");
  });

  it("hides the credentials of every URL in a comma-separated list", () => {
    expect(redactUrl("nats://a:pw1@h1:4222,nats://b:pw2@h2:4222,nats://h3:4222")).toBe("nats://***@h1:4222,nats://***@h2:4222,nats://h3:4222");
  });

  it("hides all of a password that contains an @ (URL parsers take the last @ as the end of the credentials)", () => {
    // new URL() accepts this and reads the password as "p%40ss", so --redis-url lets it through.
    expect(new URL("redis://user:p@ss@host:6379").hostname).toBe("host");
    const redacted = redactUrl("redis://user:p@ss@host:6379");
    expect(redacted).toBe("redis://***@host:6379");
    expect(redacted).not.toContain("ss");
  });
});

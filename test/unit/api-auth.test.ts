import { describe, expect, it } from "vitest";
import { bearerVerdict, isLoopbackHost } from "../../src/api/auth.js";

describe("bearerVerdict", () => {
  it("accepts exactly the token, with the scheme in any case", () => {
    expect(bearerVerdict("Bearer s3cr3t-token", "s3cr3t-token")).toBe("ok");
    expect(bearerVerdict("bearer s3cr3t-token", "s3cr3t-token")).toBe("ok");
  });

  it("calls a request without a bearer token missing", () => {
    expect(bearerVerdict(undefined, "t")).toBe("missing");
    expect(bearerVerdict("", "t")).toBe("missing");
    expect(bearerVerdict("Basic dTpw", "t")).toBe("missing");
    expect(bearerVerdict("Bearer ", "t")).toBe("missing");
  });

  it("refuses another token, a prefix of it, and one that only starts with it", () => {
    expect(bearerVerdict("Bearer s3cr3t-tokem", "s3cr3t-token")).toBe("invalid");
    expect(bearerVerdict("Bearer s3cr3t", "s3cr3t-token")).toBe("invalid");
    expect(bearerVerdict("Bearer s3cr3t-token-and-more", "s3cr3t-token")).toBe("invalid");
    expect(bearerVerdict("Bearer S3CR3T-TOKEN", "s3cr3t-token")).toBe("invalid");
  });
});

describe("isLoopbackHost", () => {
  it.each(["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"])("%s is loopback", (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each(["0.0.0.0", "::", "[::]", "192.168.1.10", "10.0.0.5", "::2", "::ffff:10.0.0.1", "example.com", "127.0.0.1.example.com", "localhost.example.com", ""])("%s is not", (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { corsAnswer, parseOrigins } from "../../src/api/cors.js";

describe("parseOrigins", () => {
  it("takes a comma-separated list, normalised as browsers send an Origin", () => {
    expect(parseOrigins("https://App.Example.com, http://localhost:5173")).toEqual(["https://app.example.com", "http://localhost:5173"]);
    expect(parseOrigins("https://app.example.com:443")).toEqual(["https://app.example.com"]);
    expect(parseOrigins("*")).toEqual(["*"]);
  });

  it.each(["app.example.com", "ftp://app.example.com", "https://app.example.com/", "https://app.example.com/path", "https://user:pw@app.example.com", "https://app.example.com?x=1"])(
    "refuses %j, naming it",
    (origin) => {
      expect(() => parseOrigins(origin)).toThrow(origin);
    },
  );
});

describe("corsAnswer", () => {
  const allowed = ["https://app.example.com", "http://localhost:5173"];

  it("adds nothing when no origin is configured (CORS off)", () => {
    expect(corsAnswer([], { method: "GET", origin: "https://app.example.com" })).toEqual({ headers: {}, preflight: false });
    expect(corsAnswer([], { method: "OPTIONS", origin: "https://app.example.com", requestMethod: "POST" })).toEqual({ headers: {}, preflight: false });
  });

  it("echoes an allowed origin, and only that one", () => {
    const answer = corsAnswer(allowed, { method: "GET", origin: "http://localhost:5173" });
    expect(answer.preflight).toBe(false);
    expect(answer.headers).toMatchObject({ "access-control-allow-origin": "http://localhost:5173", vary: "Origin" });
  });

  it("gives another origin no Access-Control-Allow-Origin", () => {
    const answer = corsAnswer(allowed, { method: "GET", origin: "https://evil.example.com" });
    expect(answer.headers["access-control-allow-origin"]).toBeUndefined();
    expect(answer.headers.vary).toBe("Origin");
  });

  it("answers the preflight of an allowed origin with the methods and headers the API takes", () => {
    const answer = corsAnswer(allowed, { method: "OPTIONS", origin: "https://app.example.com", requestMethod: "POST" });
    expect(answer.preflight).toBe(true);
    expect(answer.headers).toMatchObject({
      "access-control-allow-origin": "https://app.example.com",
      "access-control-allow-methods": "GET, POST",
      "access-control-allow-headers": expect.stringContaining("authorization"),
    });
  });

  it("does not answer the preflight of another origin", () => {
    expect(corsAnswer(allowed, { method: "OPTIONS", origin: "https://evil.example.com", requestMethod: "POST" }).preflight).toBe(false);
  });

  it("an OPTIONS without Access-Control-Request-Method is no preflight", () => {
    expect(corsAnswer(allowed, { method: "OPTIONS", origin: "https://app.example.com" }).preflight).toBe(false);
  });

  it("with * allows any origin, as *", () => {
    expect(corsAnswer(["*"], { method: "GET", origin: "https://anyone.example.org" }).headers["access-control-allow-origin"]).toBe("*");
  });
});

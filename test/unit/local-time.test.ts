import { describe, expect, it } from "vitest";
import { isTimeZone, localTime } from "../../src/domain/local-time.js";

describe("localTime", () => {
  it("reads summer time in Berlin as UTC+2 and winter time as UTC+1", () => {
    expect(localTime(new Date("2026-06-21T17:30:00Z"), "Europe/Berlin").toISOString()).toBe("2026-06-21T19:30:00.000Z");
    expect(localTime(new Date("2026-12-21T17:30:00Z"), "Europe/Berlin").toISOString()).toBe("2026-12-21T18:30:00.000Z");
  });

  it("moves the day with the zone: 23:30 UTC is the next morning in Tokyo", () => {
    expect(localTime(new Date("2026-06-21T23:30:00.250Z"), "Asia/Tokyo").toISOString()).toBe("2026-06-22T08:30:00.250Z");
  });

  it("knows IANA zones and refuses others", () => {
    expect(isTimeZone("Europe/Vienna")).toBe(true);
    expect(isTimeZone("Mars/Olympus")).toBe(false);
  });
});

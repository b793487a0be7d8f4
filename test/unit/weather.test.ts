import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/sim/random.js";
import { Weather, clamp, typicalTemperatureC } from "../../src/sim/weather.js";

describe("typicalTemperatureC", () => {
  it("is colder in January than in July, by the seasonal swing of about 19 K", () => {
    const january = typicalTemperatureC(new Date(Date.UTC(2026, 0, 15, 15)));
    const july = typicalTemperatureC(new Date(Date.UTC(2026, 6, 15, 15)));
    expect(january).toBeCloseTo(4, 1);
    expect(july).toBeGreaterThan(22);
    expect(july - january).toBeGreaterThan(18);
  });

  it("is warmest mid-afternoon and coldest before dawn, 8 K apart", () => {
    const at = (hour: number): number => typicalTemperatureC(new Date(Date.UTC(2026, 3, 10, hour)));
    const hours = Array.from({ length: 24 }, (_, h) => at(h));
    expect(hours.indexOf(Math.max(...hours))).toBe(15);
    expect(hours.indexOf(Math.min(...hours))).toBe(3);
    expect(at(15) - at(3)).toBeCloseTo(8, 6);
  });

  it("is below freezing on a January night", () => {
    expect(typicalTemperatureC(new Date(Date.UTC(2026, 0, 15, 3)))).toBeCloseTo(-4, 1);
  });
});

describe("Weather", () => {
  it("starts at its mean clearness", () => {
    expect(new Weather(seededRandom(1)).skyClearness).toBe(0.7);
    expect(new Weather(seededRandom(1), 0.4).skyClearness).toBe(0.4);
  });

  it("keeps the clearness within [0.05, 1], reaching both bounds over long steps", () => {
    const weather = new Weather(seededRandom(2));
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < 20_000; i += 1) {
      weather.advance(i % 2 ? 3_600 : 7);
      const c = weather.skyClearness;
      min = Math.min(min, c);
      max = Math.max(max, c);
    }
    expect(min).toBe(0.05);
    expect(max).toBe(1);
  });

  it("drifts around its mean clearness", () => {
    const mean = (meanClearness: number): number => {
      const weather = new Weather(seededRandom(3), meanClearness);
      let sum = 0;
      for (let i = 0; i < 5_000; i += 1) {
        weather.advance(600);
        sum += weather.skyClearness;
      }
      return sum / 5_000;
    };
    expect(mean(0.7)).toBeGreaterThan(0.62);
    expect(mean(0.7)).toBeLessThan(0.75);
    expect(mean(0.3)).toBeGreaterThan(0.25);
    expect(mean(0.3)).toBeLessThan(0.38);
  });

  it("moves clouds gradually: second-to-second changes are small", () => {
    const weather = new Weather(seededRandom(4));
    let previous = weather.skyClearness;
    let largest = 0;
    for (let i = 0; i < 3_600; i += 1) {
      weather.advance(1);
      largest = Math.max(largest, Math.abs(weather.skyClearness - previous));
      previous = weather.skyClearness;
    }
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThan(0.1);
  });

  it("adds a slowly varying anomaly of a few kelvin to the typical temperature", () => {
    const weather = new Weather(seededRandom(5));
    const date = new Date(Date.UTC(2026, 0, 15, 12));
    const anomalies: number[] = [];
    for (let i = 0; i < 5_000; i += 1) {
      weather.advance(3_600);
      anomalies.push(weather.temperatureC(date) - typicalTemperatureC(date));
    }
    const mean = anomalies.reduce((s, a) => s + a, 0) / anomalies.length;
    const sd = Math.sqrt(anomalies.reduce((s, a) => s + (a - mean) ** 2, 0) / anomalies.length);
    expect(Math.abs(mean)).toBeLessThan(0.6);
    expect(sd).toBeGreaterThan(2.4);
    expect(sd).toBeLessThan(3.6);
  });

  it("gives the same sequence for the same random seed and another for another seed", () => {
    const sequence = (seed: number): number[] => {
      const weather = new Weather(seededRandom(seed));
      const out: number[] = [];
      for (let i = 0; i < 200; i += 1) {
        weather.advance(60);
        out.push(weather.skyClearness, weather.temperatureC(new Date(Date.UTC(2026, 5, 1, 0, i))));
      }
      return out;
    };
    expect(sequence(42)).toEqual(sequence(42));
    expect(sequence(43)).not.toEqual(sequence(42));
  });
});

describe("clamp", () => {
  it("limits a value to [min, max]", () => {
    expect(clamp(5, 0, 1)).toBe(1);
    expect(clamp(-5, 0, 1)).toBe(0);
    expect(clamp(0.3, 0, 1)).toBe(0.3);
  });
});

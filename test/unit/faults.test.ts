import { describe, expect, it } from "vitest";
import { decodeReading } from "../../src/wire/decode-reading.js";
import {
  type Decision,
  FaultInjector,
  type FaultSpec,
  MALFORMED_VARIANTS,
  NO_FAULTS,
  malformedPayload,
  parseFaults,
} from "../../src/sim/faults.js";

const T0 = Date.UTC(2026, 5, 21, 12);
const SECOND = 1_000;
const MINUTE = 60_000;

const spec = (patch: Partial<FaultSpec>): FaultSpec => ({ ...NO_FAULTS, ...patch });
const reading = (meterId: string, atMs: number) => ({ communityId: "community1", meterId, measuredAtMs: atMs, seq: atMs });

/** Decisions for `count` readings of one meter, one every `stepMs`. */
function decideMany(injector: FaultInjector, count: number, stepMs = SECOND, meterId = "meter001"): Decision[][] {
  return Array.from({ length: count }, (_, i) => injector.decide(reading(meterId, T0 + i * stepMs), stepMs));
}

function parseError(text: string): string {
  try {
    parseFaults(text);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe("parseFaults", () => {
  it("reads every fault of the documented spec", () => {
    expect(parseFaults("dropout=0.01,duplicate=0.02,reorder=0.03,skew=2s,malformed=0.001,offline=0.5")).toEqual({
      dropout: 0.01,
      duplicate: 0.02,
      reorder: 0.03,
      skewMs: 2_000,
      malformed: 0.001,
      offline: 0.5,
    });
  });

  it("leaves unnamed faults at 0 and ignores blanks around parts", () => {
    expect(parseFaults("")).toEqual(NO_FAULTS);
    expect(parseFaults(" dropout=0.25 , ,reorder=1 ")).toEqual({ ...NO_FAULTS, dropout: 0.25, reorder: 1 });
  });

  it("reads skew as a duration", () => {
    expect(parseFaults("skew=500ms").skewMs).toBe(500);
    expect(parseFaults("skew=1.5s").skewMs).toBe(1_500);
    expect(parseFaults("skew=2m").skewMs).toBe(120_000);
  });

  it("accepts probabilities written as .5 or 1e-3 and the bounds 0 and 1", () => {
    expect(parseFaults("dropout=.5,malformed=1e-3,duplicate=0,offline=1")).toEqual({ ...NO_FAULTS, dropout: 0.5, malformed: 0.001, offline: 1 });
  });

  it.each([
    ["dropout", '"dropout" is not name=value'],
    ["dropout=0.1=0.2", '"dropout=0.1=0.2" is not name=value'],
    ["jitter=0.1", 'unknown fault "jitter"; known: dropout, duplicate, reorder, malformed, offline, skew'],
    ["dropout=1.5", 'dropout must be a probability from 0 to 1, not "1.5"'],
    ["duplicate=-0.1", 'duplicate must be a probability from 0 to 1, not "-0.1"'],
    ["reorder=often", 'reorder must be a probability from 0 to 1, not "often"'],
    ["malformed=", 'malformed must be a probability from 0 to 1, not ""'],
    ["offline=1e3", 'offline must be a probability from 0 to 1, not "1e3"'],
    ["skew=2", 'skew must be a duration like 2s, not "2"'],
    ["skew=-2s", 'skew must be a duration like 2s, not "-2s"'],
    ["dropout=0.1,skew=fast", 'skew must be a duration like 2s, not "fast"'],
  ])("rejects %j, naming the bad part", (text, message) => {
    expect(parseError(text)).toBe(message);
  });
});

describe("FaultInjector", () => {
  it("with all probabilities 0, sends every reading unchanged and counts nothing", () => {
    const injector = new FaultInjector(NO_FAULTS, 1);
    expect(injector.active).toBe(false);
    const decisions = decideMany(injector, 500);
    decisions.forEach((d, i) => expect(d).toEqual([{ kind: "send", measuredAtMs: T0 + i * SECOND }]));
    expect(injector.counts).toEqual({ dropout: 0, duplicate: 0, reorder: 0, malformed: 0, offline: 0, offlineReadings: 0 });
  });

  it.each<[string, Partial<FaultSpec>]>([
    ["dropout", { dropout: 0.001 }],
    ["duplicate", { duplicate: 0.5 }],
    ["reorder", { reorder: 1 }],
    ["malformed", { malformed: 0.1 }],
    ["offline", { offline: 0.001 }],
    ["skew", { skewMs: 1 }],
  ])("is active with only %s", (_, patch) => {
    expect(new FaultInjector(spec(patch), 1).active).toBe(true);
  });

  it("with dropout=1 sends nothing and counts every reading", () => {
    const injector = new FaultInjector(spec({ dropout: 1 }), 2);
    expect(decideMany(injector, 200).every((d) => d.length === 0)).toBe(true);
    expect(injector.counts.dropout).toBe(200);
  });

  it("with duplicate=1 sends each reading and then a copy", () => {
    const injector = new FaultInjector(spec({ duplicate: 1 }), 3);
    decideMany(injector, 50).forEach((d, i) =>
      expect(d).toEqual([{ kind: "send", measuredAtMs: T0 + i * SECOND }, { kind: "send", measuredAtMs: T0 + i * SECOND, copy: true }]),
    );
    expect(injector.counts.duplicate).toBe(50);
  });

  it("with reorder=1 holds every reading back", () => {
    const injector = new FaultInjector(spec({ reorder: 1 }), 4);
    decideMany(injector, 50).forEach((d, i) => expect(d).toEqual([{ kind: "send", measuredAtMs: T0 + i * SECOND, hold: true }]));
    expect(injector.counts.reorder).toBe(50);
  });

  it("with malformed=1 replaces every reading by one of the malformed variants, all of them in time", () => {
    const injector = new FaultInjector(spec({ malformed: 1 }), 5);
    const variants = new Set<number>();
    for (const d of decideMany(injector, 200)) {
      expect(d).toHaveLength(1);
      const only = d[0]!;
      if (only.kind !== "malformed") throw new Error(`expected malformed, got ${JSON.stringify(only)}`);
      variants.add(only.variant);
    }
    expect([...variants].sort()).toEqual(Array.from({ length: MALFORMED_VARIANTS }, (_, i) => i));
    expect(injector.counts.malformed).toBe(200);
  });

  it("skews each meter's measuredAt by a fixed offset within ±skew, different between meters", () => {
    const injector = new FaultInjector(spec({ skewMs: 2_000 }), 6);
    const offsets = new Set<number>();
    for (let m = 1; m <= 20; m += 1) {
      const meterId = `meter${m}`;
      const perMeter = new Set<number>();
      decideMany(injector, 10, SECOND, meterId).forEach((d, i) => {
        const only = d[0]!;
        if (only.kind !== "send") throw new Error("expected a send");
        perMeter.add(only.measuredAtMs - (T0 + i * SECOND));
      });
      expect(perMeter.size).toBe(1);
      const offset = [...perMeter][0]!;
      expect(Math.abs(offset)).toBeLessThanOrEqual(2_000);
      expect(Number.isInteger(offset)).toBe(true);
      offsets.add(offset);
    }
    expect(offsets.size).toBeGreaterThan(15);
    expect(Math.max(...offsets)).toBeGreaterThan(500);
    expect(Math.min(...offsets)).toBeLessThan(-500);
  });

  it("with offline=1 silences a meter for 1–10 minutes at a time, counting each episode and each silenced reading", () => {
    const injector = new FaultInjector(spec({ offline: 1 }), 7);
    const decisions = decideMany(injector, 3_600);
    expect(decisions.every((d) => d.length === 0)).toBe(true);
    expect(injector.counts.offlineReadings).toBe(3_600);
    // An hour of silence made of episodes of 1–10 minutes each: 6 to 60 of them.
    expect(injector.counts.offline).toBeGreaterThanOrEqual(6);
    expect(injector.counts.offline).toBeLessThanOrEqual(60);
  });

  it("brings a silenced meter back after 1–10 minutes", () => {
    // 5 % per simulated minute, readings every second: a few silent spells over 6 hours.
    const injector = new FaultInjector(spec({ offline: 0.05 }), 8);
    const sent = decideMany(injector, 6 * 3_600).map((d) => d.length > 0);
    const spells: number[] = [];
    let run = 0;
    for (const s of sent) {
      if (!s) run += 1;
      else if (run > 0) {
        spells.push(run);
        run = 0;
      }
    }
    expect(spells.length).toBeGreaterThanOrEqual(3);
    expect(spells.length).toBe(injector.counts.offline);
    for (const seconds of spells) {
      expect(seconds).toBeGreaterThanOrEqual(60);
      expect(seconds).toBeLessThanOrEqual(600);
    }
    expect(spells.reduce((s, n) => s + n, 0)).toBe(injector.counts.offlineReadings);
  });

  it("takes offline per simulated minute: longer steps between readings make a meter go silent more often per reading", () => {
    const perReading = (stepMs: number): number => {
      const injector = new FaultInjector(spec({ offline: 0.01 }), 9);
      for (let m = 0; m < 200; m += 1) decideMany(injector, 20, stepMs, `m${m}`);
      return injector.counts.offline;
    };
    // 4,000 readings: 1 s apart ≈ 0.7 episodes, 60 s apart ≈ 40 (fewer, as silent readings draw nothing).
    expect(perReading(SECOND)).toBeLessThan(5);
    expect(perReading(MINUTE)).toBeGreaterThan(20);
  });

  it("tallies every fault it applies", () => {
    const injector = new FaultInjector(spec({ dropout: 0.05, duplicate: 0.05, reorder: 0.05, malformed: 0.05, offline: 0.01, skewMs: 500 }), 10);
    const seen = { empty: 0, duplicate: 0, reorder: 0, malformed: 0, plain: 0 };
    const decisions = Array.from({ length: 50 }, (_, m) => decideMany(injector, 200, SECOND, `meter${m}`)).flat();
    for (const d of decisions) {
      if (d.length === 0) seen.empty += 1;
      else if (d[0]!.kind === "malformed") seen.malformed += 1;
      else if (d.length === 2) seen.duplicate += 1;
      else if (d[0]!.hold) seen.reorder += 1;
      else seen.plain += 1;
    }
    const c = injector.counts;
    expect(seen.empty).toBe(c.dropout + c.offlineReadings);
    expect(seen.duplicate).toBe(c.duplicate);
    expect(seen.reorder).toBe(c.reorder);
    expect(seen.malformed).toBe(c.malformed);
    expect(seen.plain).toBe(10_000 - c.dropout - c.offlineReadings - c.duplicate - c.reorder - c.malformed);
    // Each fault struck.
    for (const n of [c.dropout, c.duplicate, c.reorder, c.malformed, c.offline]) expect(n).toBeGreaterThan(0);
  });

  it("makes the same decisions for the same seed and others for another seed", () => {
    const faults = spec({ dropout: 0.1, duplicate: 0.1, reorder: 0.1, malformed: 0.1, offline: 0.05, skewMs: 1_000 });
    const run = (seed: number) => {
      const injector = new FaultInjector(faults, seed);
      return { decisions: Array.from({ length: 5 }, (_, m) => decideMany(injector, 300, SECOND, `meter${m}`)), counts: { ...injector.counts } };
    };
    expect(run(42)).toEqual(run(42));
    expect(run(43).decisions).not.toEqual(run(42).decisions);
  });
});

describe("malformedPayload", () => {
  const r = { meterId: "meter001", communityId: "community1", measuredAt: "2026-06-21T12:00:00.000Z", seq: T0 };
  const subject = "ec.community1.meter.meter001";

  it("variant 0 is a message cut off mid-way (not JSON)", () => {
    const payload = malformedPayload(0, r);
    expect(payload).toBe('{"meterId":"meter001","genW":');
    expect(() => JSON.parse(payload)).toThrow();
  });

  it("variant 1 has negative watts", () => {
    expect(JSON.parse(malformedPayload(1, r))).toEqual({ ...r, genW: -5, conW: 100 });
  });

  it("variant 2 has watts of the wrong types", () => {
    expect(JSON.parse(malformedPayload(2, r))).toEqual({ ...r, genW: "12", conW: null });
  });

  it("variant 3 (and any other) names another community than its subject, which both reading levels carry", () => {
    expect(JSON.parse(malformedPayload(3, r))).toEqual({ ...r, communityId: `${r.communityId}x`, genW: 1, conW: 1 });
    expect(malformedPayload(17, r)).toBe(malformedPayload(3, r));
  });

  it.each(Array.from({ length: MALFORMED_VARIANTS }, (_, i) => i))("variant %i is rejected by the aggregator's decoder", (variant) => {
    expect(decodeReading(subject, malformedPayload(variant, r), 1).ok).toBe(false);
  });
});

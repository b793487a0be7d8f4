import { TimeoutError } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { retryTimedOut } from "../../src/nats/topology.js";

/** A step that fails with each of `failures` in turn, then answers "done". */
function failingStep(failures: Error[]): { step: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    step: async () => {
      const failure = failures[calls];
      calls += 1;
      if (failure) throw failure;
      return "done";
    },
    calls: () => calls,
  };
}

describe("retryTimedOut", () => {
  it("runs a step again after each timeout until it answers", async () => {
    const { step, calls } = failingStep([new TimeoutError(), new TimeoutError()]);
    expect(await retryTimedOut(step)).toBe("done");
    expect(calls()).toBe(3);
  });

  it("gives up with the timeout after the last attempt", async () => {
    const { step, calls } = failingStep([new TimeoutError(), new TimeoutError(), new TimeoutError()]);
    await expect(retryTimedOut(step, 3)).rejects.toBeInstanceOf(TimeoutError);
    expect(calls()).toBe(3);
  });

  it("passes any other error on at once", async () => {
    const { step, calls } = failingStep([new Error("stream name already in use")]);
    await expect(retryTimedOut(step)).rejects.toThrow("stream name already in use");
    expect(calls()).toBe(1);
  });
});

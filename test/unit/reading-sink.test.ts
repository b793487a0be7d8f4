import { describe, expect, it } from "vitest";
import { PublishWindow } from "../../src/sim/reading-sink.js";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("PublishWindow", () => {
  it("grants up to size slots at once and makes the next one wait for a release", async () => {
    const window = new PublishWindow(2);
    const granted: number[] = [];
    for (const n of [1, 2, 3, 4]) void window.acquire().then(() => granted.push(n));
    await tick();
    expect(granted).toEqual([1, 2]);
    window.release();
    await tick();
    expect(granted).toEqual([1, 2, 3]);
    window.release();
    await tick();
    expect(granted).toEqual([1, 2, 3, 4]);
  });

  it("never lets more than size in flight under concurrent publishes", async () => {
    const window = new PublishWindow(3);
    let inFlight = 0;
    let maxInFlight = 0;
    const publish = async (delayMs: number) => {
      await window.acquire();
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      inFlight -= 1;
      window.release();
    };
    await Promise.all(Array.from({ length: 20 }, (_, i) => publish(i % 3)));
    expect(maxInFlight).toBe(3);
    expect(inFlight).toBe(0);
  });

  it("hands a released slot to waiters in order of arrival", async () => {
    const window = new PublishWindow(1);
    const order: string[] = [];
    await window.acquire();
    void window.acquire().then(() => order.push("first"));
    void window.acquire().then(() => order.push("second"));
    window.release();
    await tick();
    window.release();
    await tick();
    expect(order).toEqual(["first", "second"]);
  });

  it("tryAcquire takes a free slot without waiting, and refuses when the window is full or others wait", async () => {
    const window = new PublishWindow(2);
    expect(window.tryAcquire()).toBe(true);
    expect(window.tryAcquire()).toBe(true);
    expect(window.tryAcquire()).toBe(false);
    let granted = false;
    void window.acquire().then(() => (granted = true));
    window.release();
    await tick();
    expect(granted).toBe(true);
    expect(window.tryAcquire()).toBe(false);
  });

  it("drained resolves at once when nothing is in flight", async () => {
    await expect(new PublishWindow(4).drained()).resolves.toBeUndefined();
  });

  it("drained waits until every slot is released", async () => {
    const window = new PublishWindow(2);
    await window.acquire();
    await window.acquire();
    let drained = false;
    const done = window.drained().then(() => {
      drained = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 12));
    window.release();
    await new Promise((resolve) => setTimeout(resolve, 12));
    expect(drained).toBe(false);
    window.release();
    await done;
    expect(drained).toBe(true);
  });

  it("a slot handed to a waiter keeps it in flight until that waiter releases it", async () => {
    const window = new PublishWindow(1);
    await window.acquire();
    const second = window.acquire();
    window.release();
    await second;
    let drained = false;
    const done = window.drained().then(() => {
      drained = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 12));
    expect(drained).toBe(false);
    window.release();
    await done;
  });
});

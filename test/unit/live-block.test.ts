import { describe, expect, it } from "vitest";
import { LiveBlock } from "../../src/cli/output.js";

/** A terminal of `columns` that records what is written to it. */
function terminal(columns: number) {
  const writes: string[] = [];
  const stream = { isTTY: true, columns, write: (text: string) => writes.push(text) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, writes };
}

const visible = (text: string): string => text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");

describe("LiveBlock", () => {
  it("cuts each line to the terminal's width (colours kept), so a redraw moves up exactly the rows it drew", () => {
    const { stream, writes } = terminal(20);
    const block = new LiveBlock(stream);
    const long = `\x1b[31m${"held /net_energy -15.78 kW → not sent (19 updates)"}\x1b[39m`;
    block.render(["wear-emu · community1", long, "keys: q quits"]);
    const drawn = visible(writes[0]!).replace(/^\r/, "").split("\n").slice(0, -1);
    expect(drawn).toHaveLength(3);
    for (const line of drawn) expect([...line].length).toBeLessThanOrEqual(20);
    expect(writes[0]).toContain("\x1b[31m");
    block.render(["one line"]);
    expect(writes[1]!.startsWith("\x1b[3A")).toBe(true);
  });
});

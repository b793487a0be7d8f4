import { describe, expect, it } from "vitest";
import {
  COLOR_MODES,
  DEFICIT_GRADIENT,
  SURPLUS_GRADIENT,
  UNIT_COLOR,
  VALUE_COLOR,
  bold,
  detectColorMode,
  fg,
  gradientAt,
  gradientFor,
  lerpRgb,
  parseHex,
  reset,
  toAnsi16,
  toAnsi256,
  toHex,
} from "../../src/tui/color.js";

describe("hex colours", () => {
  it("parses #RRGGBB with or without the hash, in any case", () => {
    expect(parseHex("#4CAF50")).toEqual({ r: 76, g: 175, b: 80 });
    expect(parseHex("ff7043")).toEqual({ r: 255, g: 112, b: 67 });
  });

  it("rejects anything else", () => {
    expect(() => parseHex("#fff")).toThrow(RangeError);
    expect(() => parseHex("green")).toThrow(RangeError);
  });

  it("formats back to upper-case #RRGGBB", () => {
    expect(toHex({ r: 129, g: 199, b: 132 })).toBe("#81C784");
    expect(toHex({ r: 0, g: 5, b: 300 })).toBe("#0005FF");
  });
});

describe("the watch's colours", () => {
  it("are the design spec's gradients and text colours", () => {
    expect([SURPLUS_GRADIENT.from, SURPLUS_GRADIENT.to].map(toHex)).toEqual(["#4CAF50", "#81C784"]);
    expect([DEFICIT_GRADIENT.from, DEFICIT_GRADIENT.to].map(toHex)).toEqual(["#E53935", "#FF7043"]);
    expect(toHex(VALUE_COLOR)).toBe("#FFFFFF");
    expect(toHex(UNIT_COLOR)).toBe("#CCCCCC");
  });

  it("picks red for a deficit and green otherwise", () => {
    expect(gradientFor(-1)).toBe(DEFICIT_GRADIENT);
    expect(gradientFor(1)).toBe(SURPLUS_GRADIENT);
    expect(gradientFor(0)).toBe(SURPLUS_GRADIENT);
  });
});

describe("interpolation", () => {
  it("runs from the first colour at t = 0 to the second at t = 1", () => {
    const a = { r: 0, g: 100, b: 200 };
    const b = { r: 100, g: 100, b: 0 };
    expect(lerpRgb(a, b, 0)).toEqual(a);
    expect(lerpRgb(a, b, 1)).toEqual(b);
    expect(lerpRgb(a, b, 0.5)).toEqual({ r: 50, g: 100, b: 100 });
  });

  it("clamps t to [0, 1]", () => {
    expect(gradientAt(SURPLUS_GRADIENT, -1)).toEqual(SURPLUS_GRADIENT.from);
    expect(gradientAt(SURPLUS_GRADIENT, 2)).toEqual(SURPLUS_GRADIENT.to);
  });
});

describe("fg", () => {
  const green = parseHex("#4CAF50");

  it("truecolor writes the exact RGB", () => {
    expect(fg(green, "truecolor")).toBe("\u001b[38;2;76;175;80m");
  });

  it("256 picks the nearest xterm cube colour or grey", () => {
    expect(fg(green, "256")).toBe(`\u001b[38;5;${toAnsi256(green)}m`);
    expect(toAnsi256(parseHex("#FF0000"))).toBe(196);
    expect(toAnsi256(parseHex("#000000"))).toBe(16);
    expect(toAnsi256(parseHex("#FFFFFF"))).toBe(231);
    expect(toAnsi256(parseHex("#808080"))).toBe(244); // grey ramp: 8 + 10·12
    expect(toAnsi256(parseHex("#5FAF5F"))).toBe(71); // exactly on the cube: 16 + 36·1 + 6·3 + 1
    expect(toAnsi256(green)).toBe(71);
  });

  it("16 colours map the surplus gradient to green → bright green and the deficit to red → bright red", () => {
    expect(toAnsi16(SURPLUS_GRADIENT.from)).toBe(32);
    expect(toAnsi16(SURPLUS_GRADIENT.to)).toBe(92);
    expect(toAnsi16(DEFICIT_GRADIENT.from)).toBe(31);
    expect(toAnsi16(DEFICIT_GRADIENT.to)).toBe(91);
    expect(fg(green, "16")).toBe("\u001b[32m");
  });

  it("16 colours map greys by lightness: value bright white, unit white", () => {
    expect(toAnsi16(VALUE_COLOR)).toBe(97);
    expect(toAnsi16(UNIT_COLOR)).toBe(37);
    expect(toAnsi16(parseHex("#7F7F7F"))).toBe(90);
    expect(toAnsi16(parseHex("#000000"))).toBe(30);
    expect(toAnsi16(parseHex("#0000EE"))).toBe(34);
    expect(toAnsi16(parseHex("#00CDCD"))).toBe(36);
  });

  it("mode none writes nothing", () => {
    expect(fg(green, "none")).toBe("");
  });

  it("writes a well-formed SGR sequence in every colour mode", () => {
    for (const mode of COLOR_MODES.filter((m) => m !== "none")) {
      for (let v = 0; v <= 255; v += 17) {
        expect(fg({ r: v, g: 255 - v, b: (v * 7) % 256 }, mode)).toMatch(/^\u001b\[(38;2;\d{1,3};\d{1,3};\d{1,3}|38;5;\d{1,3}|3[0-7]|9[0-7])m$/);
      }
    }
  });

  it("exports bold and reset as SGR sequences", () => {
    expect(bold).toBe("\u001b[1m");
    expect(reset).toBe("\u001b[0m");
  });
});

describe("detectColorMode", () => {
  const tty = true;

  it("honours NO_COLOR when it is set and not empty", () => {
    expect(detectColorMode({ NO_COLOR: "1", COLORTERM: "truecolor" }, tty)).toBe("none");
    expect(detectColorMode({ NO_COLOR: "1", FORCE_COLOR: "3" }, tty)).toBe("none");
    expect(detectColorMode({ NO_COLOR: "", COLORTERM: "truecolor" }, tty)).toBe("truecolor");
  });

  it("draws no colour when not writing to a terminal", () => {
    expect(detectColorMode({ COLORTERM: "truecolor", TERM: "xterm-256color" }, false)).toBe("none");
  });

  it("reads the depth from COLORTERM and TERM", () => {
    expect(detectColorMode({ COLORTERM: "truecolor" }, tty)).toBe("truecolor");
    expect(detectColorMode({ COLORTERM: "24bit", TERM: "xterm" }, tty)).toBe("truecolor");
    expect(detectColorMode({ TERM: "xterm-256color" }, tty)).toBe("256");
    expect(detectColorMode({ TERM: "tmux-256color" }, tty)).toBe("256");
    expect(detectColorMode({ TERM: "xterm" }, tty)).toBe("16");
    expect(detectColorMode({}, tty)).toBe("16");
  });

  it("draws no colour on a dumb terminal", () => {
    expect(detectColorMode({ TERM: "dumb" }, tty)).toBe("none");
  });

  it("follows FORCE_COLOR: 0 turns colour off, 1–3 pick a depth even without a terminal", () => {
    expect(detectColorMode({ FORCE_COLOR: "0", COLORTERM: "truecolor" }, tty)).toBe("none");
    expect(detectColorMode({ FORCE_COLOR: "false" }, tty)).toBe("none");
    expect(detectColorMode({ FORCE_COLOR: "1" }, false)).toBe("16");
    expect(detectColorMode({ FORCE_COLOR: "2" }, false)).toBe("256");
    expect(detectColorMode({ FORCE_COLOR: "3" }, false)).toBe("truecolor");
    expect(detectColorMode({ FORCE_COLOR: "", TERM: "xterm-256color" }, false)).toBe("256");
  });
});

import { describe, expect, it } from "vitest";
import { AdbCommand, decodePackets, encodePacket, splitShellWords } from "../helpers/adbd.js";

describe("the adbd stand-in's packet codec", () => {
  it("encodes the 24-byte little-endian header with the payload's byte sum and the magic", () => {
    const packet = encodePacket({ command: AdbCommand.CNXN, arg0: 0x01000001, arg1: 4096, data: Buffer.from("host::") });
    expect(packet.toString("hex")).toBe(
      ["434e584e", "01000001", "00100000", "06000000", "32020000", "bcb1a7b1"].join("") + Buffer.from("host::").toString("hex"),
    );
  });

  it("decodes several packets from one chunk and keeps an incomplete one for later", () => {
    const okay = encodePacket({ command: AdbCommand.OKAY, arg0: 7, arg1: 9, data: Buffer.alloc(0) });
    const write = encodePacket({ command: AdbCommand.WRTE, arg0: 9, arg1: 7, data: Buffer.from("hello") });
    const open = encodePacket({ command: AdbCommand.OPEN, arg0: 3, arg1: 0, data: Buffer.from("shell:ls\0") });
    const chunk = Buffer.concat([okay, write, open.subarray(0, 30)]);

    const first = decodePackets(chunk);
    expect(first.packets.map((p) => [p.command, p.arg0, p.arg1, p.data.toString()])).toEqual([
      [AdbCommand.OKAY, 7, 9, ""],
      [AdbCommand.WRTE, 9, 7, "hello"],
    ]);
    expect(first.rest.length).toBe(30);

    const second = decodePackets(Buffer.concat([first.rest, open.subarray(30)]));
    expect(second.packets.map((p) => [p.command, p.arg0, p.arg1, p.data.toString()])).toEqual([[AdbCommand.OPEN, 3, 0, "shell:ls\0"]]);
    expect(second.rest.length).toBe(0);
  });

  it("waits for the rest of a header that arrived in part", () => {
    const okay = encodePacket({ command: AdbCommand.OKAY, arg0: 1, arg1: 2, data: Buffer.alloc(0) });
    expect(decodePackets(okay.subarray(0, 23))).toEqual({ packets: [], rest: okay.subarray(0, 23) });
  });

  it("refuses a header whose magic does not match its command", () => {
    const broken = encodePacket({ command: AdbCommand.OKAY, arg0: 1, arg1: 2, data: Buffer.alloc(0) });
    broken.writeUInt32LE(0, 20);
    expect(() => decodePackets(broken)).toThrow(/bad magic for command 0x59414b4f at byte 0/);
  });
});

describe("the adbd stand-in's shell splitter", () => {
  it.each([
    [`am broadcast -a x.Y --es data '{"a": 1}'`, ["am", "broadcast", "-a", "x.Y", "--es", "data", '{"a": 1}']],
    ["  echo \t a   b  ", ["echo", "a", "b"]],
    [`echo "say \\"hi\\" \\$HOME \\\\ \\q"`, ["echo", 'say "hi" $HOME \\ \\q']],
    ["echo a\\ b \\'c\\'", ["echo", "a b", "'c'"]],
    [`echo a"b"'c'd`, ["echo", "abcd"]],
    [`echo '' ""`, ["echo", "", ""]],
    [`echo 'it''s' "$x"`, ["echo", "its", "$x"]],
    ['echo "one\\\ntwo" three\\\nfour', ["echo", "onetwo", "threefour"]],
    ["", []],
  ])("splits %j", (line, argv) => {
    expect(splitShellWords(line)).toEqual(argv);
  });

  it.each([`echo 'open`, `echo "open`, `echo "open\\"`])("refuses the unterminated %j", (line) => {
    expect(() => splitShellWords(line)).toThrow("unterminated quoted string");
  });
});

import { Chalk } from "chalk";
/** Colours for a stream: none under NO_COLOR or when the stream is not a terminal. */
export function colorsFor(stream, env = process.env) {
    const off = (env.NO_COLOR !== undefined && env.NO_COLOR !== "") || !stream.isTTY;
    return new Chalk({ level: off ? 0 : 2 });
}
/** Watts as kW with two decimals, e.g. `+2.10 kW`. */
export function formatKw(watts, signed = false) {
    const kw = (watts / 1000).toFixed(2);
    return `${signed && watts > 0 ? "+" : ""}${kw} kW`;
}
/** A live line on a terminal: rewritten in place; elsewhere written only when asked to. */
export class StatusLine {
    stream;
    shown = false;
    constructor(stream) {
        this.stream = stream;
    }
    get live() {
        return this.stream.isTTY === true;
    }
    update(text) {
        if (!this.live)
            return;
        this.stream.write(`\r\x1b[2K${text}`);
        this.shown = true;
    }
    clear() {
        if (this.shown)
            this.stream.write("\r\x1b[2K");
        this.shown = false;
    }
}
/**
 * A block of lines redrawn in place on a terminal (live status). Off a terminal it
 * prints the block at most every `plainEveryMs`, so logs stay readable.
 */
export class LiveBlock {
    stream;
    plainEveryMs;
    height = 0;
    lastPlainMs = 0;
    constructor(stream, plainEveryMs = 10_000) {
        this.stream = stream;
        this.plainEveryMs = plainEveryMs;
    }
    render(lines) {
        if (!this.stream.isTTY) {
            if (Date.now() - this.lastPlainMs < this.plainEveryMs)
                return;
            this.lastPlainMs = Date.now();
            this.stream.write(`${lines.join("\n")}\n`);
            return;
        }
        const up = this.height ? `\x1b[${this.height}A` : "";
        this.stream.write(`${up}\r\x1b[J${lines.join("\n")}\n`);
        this.height = lines.length;
    }
    done() {
        this.height = 0;
    }
}

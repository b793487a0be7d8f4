import { Chalk, type ChalkInstance } from "chalk";
import cliTruncate from "cli-truncate";

/** Colours for a stream: none under NO_COLOR or when the stream is not a terminal. */
export function colorsFor(stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): ChalkInstance {
  const off = (env.NO_COLOR !== undefined && env.NO_COLOR !== "") || !stream.isTTY;
  return new Chalk({ level: off ? 0 : 2 });
}

// Pure, so the layers below cli/ (tui/, the tail line) use it from domain/ (issue 16).
export { formatKw } from "../domain/format-power.js";

/** A live line on a terminal: rewritten in place; elsewhere written only when asked to. */
export class StatusLine {
  private shown = false;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  get live(): boolean {
    return this.stream.isTTY === true;
  }

  update(text: string): void {
    if (!this.live) return;
    this.stream.write(`\r\x1b[2K${text}`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) this.stream.write("\r\x1b[2K");
    this.shown = false;
  }
}

/**
 * A block of lines redrawn in place on a terminal (live status). Off a terminal it
 * prints the block at most every `plainEveryMs`, so logs stay readable.
 */
export class LiveBlock {
  private height = 0;
  private lastPlainMs = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly plainEveryMs = 10_000,
  ) {}

  render(lines: readonly string[]): void {
    if (!this.stream.isTTY) {
      if (Date.now() - this.lastPlainMs < this.plainEveryMs) return;
      this.lastPlainMs = Date.now();
      this.stream.write(`${lines.join("\n")}\n`);
      return;
    }
    const up = this.height ? `\x1b[${this.height}A` : "";
    // A line wider than the terminal would wrap into two rows, and the next redraw would move
    // up one row too few (the screen then shows the block's top twice): each line is cut to
    // the width, colours kept.
    const width = this.stream.columns;
    const fitted = width ? lines.map((line) => cliTruncate(line, width)) : lines;
    this.stream.write(`${up}\r\x1b[J${fitted.join("\n")}\n`);
    this.height = lines.length;
  }

  done(): void {
    this.height = 0;
  }
}

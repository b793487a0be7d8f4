import { emitKeypressEvents } from "node:readline";

/**
 * Reads the keys typed into a terminal (raw mode: one at a time, Ctrl-C as a key, no echo)
 * and hands each to `onKey` as the text it typed (" ", "q", "\u0003"); `stop` gives the
 * terminal back as it was and lets the process end.
 */
export function readTerminalKeys(stdin: NodeJS.ReadStream, onKey: (input: string) => void): { stop(): void } {
  emitKeypressEvents(stdin);
  const onKeypress = (input: string | undefined): void => {
    if (input !== undefined) onKey(input);
  };
  stdin.setRawMode(true);
  stdin.on("keypress", onKeypress);
  stdin.resume();
  return {
    stop: () => {
      stdin.off("keypress", onKeypress);
      stdin.setRawMode(false);
      stdin.pause();
    },
  };
}

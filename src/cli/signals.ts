import { exitNow } from "./exit.js";

/**
 * Resolves with the first SIGINT or SIGTERM. A second one while shutting down exits at
 * once (130), after `onForce` (e.g. killing child servers), so a hung shutdown never traps
 * the user.
 */
export function untilSignal(onForce?: () => void): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      const force = (code: number) => (): void => {
        onForce?.();
        exitNow(code);
      };
      process.once("SIGINT", force(130));
      process.once("SIGTERM", force(143));
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

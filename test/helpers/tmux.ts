import { execFileSync } from "node:child_process";

/** A terminal under tmux: type into it and read its screen, as a user would. */
export class TmuxSession {
  private constructor(readonly name: string) {}

  static start(command: string, options: { cwd: string; width?: number; height?: number }): TmuxSession {
    const name = `ecwatch-test-${process.pid}-${Date.now()}`;
    execFileSync("tmux", ["new-session", "-d", "-s", name, "-x", String(options.width ?? 120), "-y", String(options.height ?? 30), "-c", options.cwd, command]);
    // Keep the pane after the command exits, so its last screen and exit status can be read.
    execFileSync("tmux", ["set-option", "-t", name, "remain-on-exit", "on"]);
    return new TmuxSession(name);
  }

  screen(): string {
    return execFileSync("tmux", ["capture-pane", "-p", "-t", this.name], { encoding: "utf8" });
  }

  /** The exit status of the command once it has ended, else undefined. */
  exitStatus(): number | undefined {
    const [dead, status] = execFileSync("tmux", ["display-message", "-p", "-t", this.name, "#{pane_dead} #{pane_dead_status}"], { encoding: "utf8" }).trim().split(" ");
    return dead === "1" ? Number(status) : undefined;
  }

  sendKeys(...keys: string[]): void {
    execFileSync("tmux", ["send-keys", "-t", this.name, ...keys]);
  }

  async waitForScreen(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      if (pattern.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`no ${pattern} on the screen within ${timeoutMs} ms:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  kill(): void {
    try {
      execFileSync("tmux", ["kill-session", "-t", this.name], { stdio: "ignore" });
    } catch {
      // already gone
    }
  }
}

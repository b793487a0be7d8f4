import { execFileSync } from "node:child_process";

let sessions = 0;

/**
 * A terminal under tmux: type into it and read its screen, as a user would. Each session has
 * a tmux server of its own (its own socket): tests in parallel cannot take each other's server
 * down, as a shared one exits with its last session.
 */
export class TmuxSession {
  private constructor(
    readonly name: string,
    private readonly socket: string,
  ) {}

  /**
   * Starts `command` through the shell; start it with `exec` when its own exit status matters,
   * or a shell that got the same Ctrl-C may end the pane by the signal instead.
   */
  static start(command: string, options: { cwd: string; width?: number; height?: number }): TmuxSession {
    sessions += 1;
    const name = `ecwatch-test-${process.pid}-${sessions}`;
    const session = new TmuxSession(name, name);
    session.tmux("new-session", "-d", "-s", name, "-x", String(options.width ?? 120), "-y", String(options.height ?? 30), "-c", options.cwd, command);
    // Keep the pane after the command exits, so its last screen and exit status can be read.
    session.tmux("set-option", "-t", name, "remain-on-exit", "on");
    return session;
  }

  /** Runs a tmux command against this session's own server. */
  tmux(...args: string[]): string {
    return execFileSync("tmux", ["-L", this.socket, ...args], { encoding: "utf8" });
  }

  screen(): string {
    return this.tmux("capture-pane", "-p", "-t", this.name);
  }

  /** How the command ended (`exit 0`, `signal 2`), or undefined while it runs. */
  exitStatus(): string | undefined {
    const [dead, status, signal] = this.tmux("display-message", "-p", "-t", this.name, "#{pane_dead}|#{pane_dead_status}|#{pane_dead_signal}").trim().split("|");
    // tmux may see the terminal close before it has collected the exit status: not ended yet.
    if (dead !== "1" || (!status && !signal)) return undefined;
    return status ? `exit ${status}` : `signal ${signal}`;
  }

  /**
   * Waits for the command to end and returns how: `exit 0`, `signal 2`, or `ended` when tmux
   * marked the pane dead but could not tell how (seen under load: the status never arrives).
   * Fails with the pane's state and screen when it does not end.
   */
  async ended(timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let deadSince: number | undefined;
    for (;;) {
      const status = this.exitStatus();
      if (status !== undefined) return status;
      if (this.tmux("display-message", "-p", "-t", this.name, "#{pane_dead}").trim() === "1") {
        deadSince ??= Date.now();
        if (Date.now() - deadSince > 2_000) return "ended";
      }
      if (Date.now() > deadline) {
        const pane = this.tmux("display-message", "-p", "-t", this.name, "dead=#{pane_dead} status=#{pane_dead_status} signal=#{pane_dead_signal} pid=#{pane_pid}").trim();
        throw new Error(`the command did not end within ${timeoutMs} ms (${pane}); screen:\n${this.screen()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  sendKeys(...keys: string[]): void {
    this.tmux("send-keys", "-t", this.name, ...keys);
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
      execFileSync("tmux", ["-L", this.socket, "kill-server"], { stdio: "ignore" });
    } catch {
      // already gone
    }
  }
}

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatKw } from "../../src/domain/format-power.js";
import { openBus } from "../../src/nats/bus.js";
import { meterReadingSubject } from "../../src/wire/names.js";
import { BIN, CliProcess, runCli } from "../helpers/cli.js";
import { eventually } from "../helpers/stack.js";
import { TmuxSession } from "../helpers/tmux.js";

/** The line of today's kWh and KPIs under the face (the aggregator's day records, over GET /kpis). */
const TODAY_LINE = /^today {2}gen \d+\.\d kWh · con \d+\.\d kWh · self-sufficiency (\d+ %|–) · self-consumption (\d+ %|–)$/m;

let cwd: string;
let up: CliProcess;
let api: string;
let natsUrl: string;

async function post(genW: number, conW: number): Promise<void> {
  const res = await fetch(`${api}/communities/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ communityId: "community1", genW, conW }),
  });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), "ecwatch-monitor-"));
  up = new CliProcess(["up", "--communities", "0", "--port", "0", "--json"], { cwd });
  ({ api, nats: natsUrl } = JSON.parse((await up.waitForStdout(/^\{"ready":true.*\}$/m))[0]) as { api: string; nats: string });
  await post(5_000, 2_900);
  await eventually(async () => ((await fetch(`${api}/communities/community1`)).status === 200 ? true : undefined));
});

afterAll(async () => {
  up?.kill("SIGINT");
  await up?.exited;
  rmSync(cwd, { recursive: true, force: true });
});

describe("ecwatch monitor in a real terminal", () => {
  it("draws the ring and the value live, answers keys, and restores the terminal on q", async () => {
    const terminal = TmuxSession.start("env PS1='$ ' bash --norc --noprofile", { cwd, width: 100, height: 40 });
    try {
      terminal.sendKeys(`${process.execPath} ${BIN} monitor community1`, "Enter");
      const first = await terminal.waitForScreen(/2\.10/, 20_000);
      expect(first).toMatch(/[\u2801-\u28FF]{3}/); // braille ring
      expect(first).toContain("surplus 2.10 kW");
      expect(first).toContain("live");
      await terminal.waitForScreen(/today {2}gen \d+\.\d kWh/, 10_000);

      await post(1_000, 4_450); // a deficit of 3.45 kW
      const second = await terminal.waitForScreen(/3\.45/, 10_000);
      expect(second).toContain("deficit 3.45 kW");

      terminal.sendKeys("?");
      await terminal.waitForScreen(/q or Ctrl-C {2}quit/);
      terminal.sendKeys("?");
      await terminal.waitForScreen(/deficit 3\.45 kW/);

      terminal.sendKeys("q");
      await terminal.waitForScreen(/^\$\s*$/m, 10_000);
      terminal.sendKeys("stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo; echo END", "Enter");
      const after = await terminal.waitForScreen(/^END$/m);
      expect(after).toMatch(/^icanon$/m);
      expect(after).toMatch(/^echo$/m);
      const cursorVisible = terminal.tmux("display-message", "-p", "-t", terminal.name, "#{cursor_flag}").trim();
      expect(cursorVisible).toBe("1");
    } finally {
      terminal.kill();
    }
  });

  it("m opens the community's meters as a table, a stale one marked, with sparklines; m again shows the face", async () => {
    // A 1-second plug whose only reading is two minutes older than the community's newest: stale.
    const bus = await openBus(natsUrl, "monitor-meters");
    try {
      const plug = { meterId: "plug", communityId: "community1", genW: 0, conW: 120, measuredAt: new Date(Date.now() - 120_000).toISOString(), seq: 1, intervalMs: 1_000 };
      await bus.js.publish(meterReadingSubject("community1", "plug"), JSON.stringify(plug));
    } finally {
      await bus.close();
    }
    await post(2_000, 500);
    const terminal = TmuxSession.start(`exec ${process.execPath} ${BIN} monitor community1`, { cwd, width: 100, height: 30 });
    try {
      await terminal.waitForScreen(/m meters · \? keys/, 20_000);
      terminal.sendKeys("m");
      const table = await terminal.waitForScreen(/^plug .* stale$/m, 10_000);
      expect(table).toMatch(/^community1 · 2 meters, 1 stale · net power, last /m);
      expect(table).toMatch(/^_community +\+1\.50 kW/m);
      expect(table).toContain("m face · ? keys");
      // A sample a second: the live meter's sparkline grows.
      await terminal.waitForScreen(/^_community .*[▁▂▃▄▅▆▇█]{3}/m, 10_000);
      terminal.sendKeys("m");
      const face = await terminal.waitForScreen(/surplus 1\.50 kW/, 10_000);
      expect(face).toMatch(/[\u2801-\u28FF]{3}/);
      terminal.sendKeys("q");
      expect(["exit 0", "ended"], terminal.screen()).toContain(await terminal.ended(10_000));
    } finally {
      terminal.kill();
    }
  });

  it("wear-emu relays the live value to the emulated watch and shows its log and figures", async () => {
    const terminal = TmuxSession.start(`exec ${process.execPath} ${BIN} wear-emu --policy prototype --glances 0/day`, { cwd, width: 110, height: 40 });
    try {
      await terminal.waitForScreen(/watch holds [+-]?\d+\.\d\d kW/, 20_000);
      await post(6_000, 1_000); // +5.00 kW
      const screen = await terminal.waitForScreen(/watch holds \+5\.00 kW/, 10_000);
      expect(screen).toMatch(/urgent +\/net_energy \+5\.00 kW → \d+ B, wake-up \d+/);
      expect(screen).toMatch(/wake-ups\/h/);
      terminal.sendKeys("C-c");
      expect(["exit 0", "ended"], terminal.screen()).toContain(await terminal.ended(20_000));
    } finally {
      terminal.kill();
    }
  });

  it("wear-emu: space raises the wrist, and the watch wakes with the API's current value; the log shows that wake-up", async () => {
    const current = (await (await fetch(`${api}/communities/community1`)).json()) as { netW: number };
    const value = formatKw(current.netW, true).replace(/[+.]/g, "\\$&");
    const terminal = TmuxSession.start("env PS1='$ ' bash --norc --noprofile", { cwd, width: 110, height: 40 });
    try {
      // No seeded glances: only the key opens the watch app.
      terminal.sendKeys(`${process.execPath} ${BIN} wear-emu --glances 0/day`, "Enter");
      const before = await terminal.waitForScreen(/wrist down — watch screen off \(space raises it\)/, 20_000);
      expect(before).toContain("(screen off)");
      expect(before).toContain("keys: space raise / lower the wrist · q or Ctrl-C quit");
      expect(before).toMatch(/watch holds nothing yet/); // energy-aware: the first value waits in its batch

      terminal.sendKeys("Space");
      const raised = await terminal.waitForScreen(new RegExp(`watch holds ${value} · measured [^·]+ ago · arrived \\d+s ago`), 10_000);
      expect(raised).toMatch(/wrist raised — watch screen ON, \d+s left \(space lowers it\)/);
      expect(raised).toMatch(/[\u2801-\u28FF]{3}/); // the ring, lit
      expect(raised).toMatch(new RegExp(`urgent +/net_energy ${value} → \\d+ B, wake-up 1$`, "m"));

      terminal.sendKeys("Space");
      await terminal.waitForScreen(/wrist down — watch screen off/, 10_000);
      terminal.sendKeys("q");
      // The terminal is given back as it was (line mode, echo), and the relay ended with 0.
      await terminal.waitForScreen(/^\$\s*$/m, 10_000);
      terminal.sendKeys("echo EXIT $?; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo; echo END", "Enter");
      const after = await terminal.waitForScreen(/^END$/m);
      expect(after).toMatch(/^EXIT 0$/m);
      expect(after).toMatch(/^icanon$/m);
      expect(after).toMatch(/^echo$/m);
    } finally {
      terminal.kill();
    }
  });

  it("wear-emu stops on Ctrl-C with exit code 0, and --json prints its figures", async () => {
    const relay = new CliProcess(["wear-emu", "--json"], { cwd });
    try {
      const [line] = await relay.waitForStdout(/^\{"watchW".*\}$/m, 20_000);
      expect(JSON.parse(line)).toHaveProperty("wakeupsPerHour");
      relay.kill("SIGINT");
      expect((await relay.exited).code).toBe(0);
    } finally {
      relay.kill("SIGKILL");
    }
    // Its first figures come after 5 s; a loaded machine adds its start-up and its exit to that.
  }, 60_000);

  it("--once prints one frame for scripts, and --svg writes the watch face", async () => {
    const once = await runCli(["monitor", "community1", "--once", "--color", "none"], { cwd });
    expect(once.code).toBe(0);
    expect(once.stdout).toMatch(/^community1\n/);
    expect(once.stdout).toMatch(/[\u2801-\u28FF]/);
    expect(once.stdout).toMatch(TODAY_LINE);
    const svgFile = join(cwd, "face.svg");
    const svg = await runCli(["monitor", "community1", "--svg", svgFile], { cwd });
    expect(svg.code).toBe(0);
    const text = readFileSync(svgFile, "utf8");
    expect(text).toMatch(/^<svg[^>]*width="437"[^>]*height="437"/);
  });

  it("refuses to draw where there is no terminal, saying what to use instead", async () => {
    const run = await runCli(["monitor", "community1"], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("--once");
  });
});

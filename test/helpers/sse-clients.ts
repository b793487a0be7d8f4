import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fetchEventSource } from "@microsoft/fetch-event-source";
import { EventSource } from "eventsource";
import { createEventSource } from "eventsource-client";
import type { Browser, Page } from "playwright-core";

/**
 * The SSE clients of issue 18's compatibility matrix, each used the way its users use it, behind
 * one interface: what it dispatched to the application (raw, so an empty or garbled message is
 * seen), and how many connections it opened (more than the test caused is a reconnect loop).
 */

/** One message as the client handed it to the application. */
export interface Dispatched {
  readonly data: string;
  /** The event's id as the client reports it (opaque); undefined for a client that reads no ids. */
  readonly id: string | undefined;
}

export interface SseClientUnderTest {
  readonly name: string;
  /**
   * How it comes back after the server dropped it: `auto` reconnects and sends its last id
   * itself; `manual` is run again by the test with the last id it printed; `none` is run again
   * without an id (it reads no ids), so it is sent the current value again.
   */
  readonly resume: "auto" | "manual" | "none";
  messages(): Promise<readonly Dispatched[]>;
  /** Connections opened, the first included. */
  opens(): Promise<number>;
  /** For `manual` and `none`: opens the stream again, once the server is back. */
  reconnect(): void;
  close(): Promise<void>;
}

/** `eventsource` (npm), what ecwatch's own `tail`, `monitor` and `wear-emu` use. */
export function eventsourceClient(url: string): SseClientUnderTest {
  const messages: Dispatched[] = [];
  let opens = 0;
  const es = new EventSource(url);
  es.onopen = () => void (opens += 1);
  es.onmessage = (event) => messages.push({ data: event.data, id: event.lastEventId });
  return { name: "eventsource", resume: "auto", ...passive(messages, () => opens), close: async () => es.close() };
}

/** `eventsource-client` (npm). */
export function eventsourceClientClient(url: string): SseClientUnderTest {
  const messages: Dispatched[] = [];
  let opens = 0;
  const es = createEventSource({ url, onConnect: () => void (opens += 1), onMessage: (event) => messages.push({ data: event.data, id: event.id }) });
  return { name: "eventsource-client", resume: "auto", ...passive(messages, () => opens), close: async () => es.close() };
}

/**
 * `@microsoft/fetch-event-source`, written for browsers: in node it is given `fetch`,
 * `openWhenHidden`, and the `window`/`document` it reaches for anyway (timers, and a
 * visibility listener it removes on close). Its handler parses unguarded, as the user's
 * did: a message without JSON throws, and the library reconnects.
 */
export function fetchEventSourceClient(url: string): SseClientUnderTest {
  shimBrowserGlobals();
  const messages: Dispatched[] = [];
  let opens = 0;
  const controller = new AbortController();
  void fetchEventSource(url, {
    fetch,
    openWhenHidden: true,
    signal: controller.signal,
    onopen: async (response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      opens += 1;
    },
    onmessage: (event) => {
      messages.push({ data: event.data, id: event.id });
      JSON.parse(event.data);
    },
    // The library's own way to reconnect when the server ends the stream: throw from onclose.
    onclose: () => {
      throw new Error("the server ended the stream");
    },
    // Undefined: retry after the server's `retry:` interval.
    onerror: () => undefined,
  });
  return { name: "@microsoft/fetch-event-source", resume: "auto", ...passive(messages, () => opens), close: async () => controller.abort() };
}

function shimBrowserGlobals(): void {
  const globals = globalThis as Record<string, unknown>;
  globals.window ??= { setTimeout, clearTimeout, fetch };
  globals.document ??= { hidden: false, addEventListener: () => undefined, removeEventListener: () => undefined };
}

/** `curl -N`, read the strictest way a script may: every blank line ends a message. */
export function curlClient(url: string): SseClientUnderTest {
  const messages: Dispatched[] = [];
  let opens = 0;
  let lastId: string | undefined;
  let child: ChildProcess | undefined;
  const run = (): void => {
    const proc = spawn("curl", ["-sN", ...(lastId === undefined ? [] : ["-H", `Last-Event-ID: ${lastId}`]), url], { stdio: ["ignore", "pipe", "inherit"] });
    child = proc;
    let opened = false;
    let data: string[] = [];
    forEachLine(proc.stdout!, (line) => {
      if (!opened) opens += 1;
      opened = true;
      if (line === "") {
        messages.push({ data: data.join("\n"), id: lastId });
        data = [];
      } else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      else if (line.startsWith("id:")) lastId = line.slice(3).replace(/^ /, "");
    });
  };
  run();
  return { name: "curl -N", resume: "manual", ...passive(messages, () => opens), reconnect: run, close: async () => void child?.kill() };
}

/**
 * The prototype's Dart phone app, ported line for line: the body as text, split into lines,
 * `line.startsWith('data:')`, `line.replaceFirst('data: ', '')`, `json.decode`. It reads no ids
 * and sends none.
 */
export function dartStyleClient(url: string): SseClientUnderTest {
  const messages: Dispatched[] = [];
  let opens = 0;
  let controller = new AbortController();
  const run = (): void => {
    controller = new AbortController();
    void fetch(url, { signal: controller.signal })
      .then(async (response) => {
        if (!response.ok || !response.body) return;
        opens += 1;
        const decoder = new TextDecoder();
        let pending = "";
        for await (const chunk of response.body) {
          pending += decoder.decode(chunk as Uint8Array, { stream: true });
          const lines = pending.split(/\r?\n/);
          pending = lines.pop()!;
          for (const line of lines) if (line.startsWith("data:")) messages.push({ data: line.replace("data: ", ""), id: undefined });
        }
      })
      .catch(() => undefined);
  };
  run();
  return { name: "Dart-style (data: lines)", resume: "none", ...passive(messages, () => opens), reconnect: run, close: async () => controller.abort() };
}

/**
 * The browser's own EventSource in headless Chromium, on a real page served over HTTP by
 * `pageServer`. The page keeps what it got in `window.sseLog`.
 */
export async function browserClient(browser: Browser, pageUrl: string, streamUrl: string): Promise<SseClientUnderTest> {
  const page: Page = await browser.newPage();
  await page.goto(`${pageUrl}?stream=${encodeURIComponent(streamUrl)}`);
  const log = (): Promise<{ opens: number; messages: Dispatched[] }> => page.evaluate(() => (globalThis as unknown as { sseLog: { opens: number; messages: Dispatched[] } }).sseLog);
  return {
    name: "Chromium EventSource",
    resume: "auto",
    messages: async () => (await log()).messages,
    opens: async () => (await log()).opens,
    reconnect: () => undefined,
    close: () => page.close(),
  };
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>ecwatch SSE</title></head>
<body><script>
  const log = { opens: 0, messages: [] };
  window.sseLog = log;
  const source = new EventSource(new URLSearchParams(location.search).get("stream"));
  source.onopen = () => { log.opens += 1; };
  source.onmessage = (event) => { log.messages.push({ data: event.data, id: event.lastEventId }); };
</script></body></html>`;

/** Serves the browser row's page over HTTP on a free loopback port (its own origin). */
export async function pageServer(): Promise<{ url: string; origin: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(PAGE) });
    res.end(PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: `${origin}/`, origin, server };
}

function passive(messages: readonly Dispatched[], opens: () => number): Pick<SseClientUnderTest, "messages" | "opens" | "reconnect"> {
  return { messages: async () => messages, opens: async () => opens(), reconnect: () => undefined };
}

function forEachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  stream.setEncoding("utf8");
  let pending = "";
  stream.on("data", (chunk: string) => {
    pending += chunk;
    const lines = pending.split(/\r\n|\n|\r/);
    pending = lines.pop()!;
    lines.forEach(onLine);
  });
}

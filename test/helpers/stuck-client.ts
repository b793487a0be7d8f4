import { type ChildProcess, spawn } from "node:child_process";

/**
 * A raw TCP client that sends the GET of a stream and then does not read until told to, as a
 * frozen phone app. It asks for the smallest segments and receive buffer Linux allows (MSS 88,
 * SO_RCVBUF 1 KiB): then the two kernels hold ~50 KB of the stream, where on loopback (64 KiB
 * segments) they absorb megabytes, and the API would see back-pressure only after minutes of
 * this load. Node cannot set either socket option, so the client is a few lines of python3.
 */
export class StuckClient {
  text = "";
  /** The local port of its connection, once connected (see connectionOwner). */
  readonly localPort: Promise<number>;
  private constructor(private readonly child: ChildProcess) {
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (this.text += chunk));
    this.localPort = new Promise((resolve) => {
      let said = "";
      child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
        said += chunk;
        const port = /^port (\d+)\n/m.exec(said);
        if (port) resolve(Number(port[1]));
        process.stderr.write(chunk.replace(/^port \d+\n/m, ""));
      });
    });
  }

  static open(port: number, path: string): StuckClient {
    const script = [
      "import socket, sys",
      "s = socket.socket()",
      "s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)",
      "s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 88)",
      `s.connect(("127.0.0.1", ${port}))`,
      'sys.stderr.write("port %d\\n" % s.getsockname()[1])',
      "sys.stderr.flush()",
      `s.sendall(b"GET ${path} HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nAccept: text/event-stream\\r\\n\\r\\n")`,
      "sys.stdin.readline()",
      "while True:",
      "    data = s.recv(65536)",
      "    if not data: break",
      "    sys.stdout.buffer.write(data)",
      "    sys.stdout.flush()",
    ].join("\n");
    return new StuckClient(spawn("python3", ["-c", script], { stdio: ["pipe", "pipe", "pipe"] }));
  }

  /** Starts reading, and from then on keeps up. */
  resume(): void {
    this.child.stdin!.write("read\n");
  }

  /** The versions of the events read so far (ids `<epoch>:<version>`; each event is one write, so one piece of text, whatever the chunking). */
  versions(): number[] {
    return [...this.text.matchAll(/^id: \d+:(\d+)\n/gm)].map((m) => Number(m[1]));
  }

  stop(): void {
    this.child.kill("SIGKILL");
  }
}

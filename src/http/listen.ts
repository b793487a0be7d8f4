import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A node:http server listening on its address. */
export interface Listening {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Listens and resolves with the URL; rejects with the listen error (e.g. EADDRINUSE). */
export async function listen(server: Server, host: string, port: number): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

import { createConnection, createServer, type Server, type Socket } from "node:net";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { afterEach } from "vitest";
import { PRODUCT_SCHEMA } from "../../loaders/sample/product.ts";

export { PRODUCT_SCHEMA };

/** A real PostgreSQL engine (PGlite) served on 127.0.0.1, behind a TCP proxy that can drop every connection. */
export interface TestPostgres {
  pg: PGlite;
  /** postgres://postgres@127.0.0.1:<proxy port>/postgres */
  url: string;
  /** Cuts every open client connection, as a network failure or a server restart would. */
  dropConnections(): void;
  /**
   * Cuts every connection once `bytes` more bytes have gone from the server to clients: a cut in
   * the middle of a stream such as a COPY, wherever the kernel's buffers let the client read ahead.
   */
  dropAfter(bytes: number): void;
  /** Client connections opened through the proxy so far. */
  connections(): number;
}

const running: (() => Promise<void>)[] = [];

afterEach(async () => {
  while (running.length > 0) await running.pop()!();
});

/** Starts PGlite with seed 002's product tables (or `schema`), stopped after the current test. */
export async function startPostgres(schema = PRODUCT_SCHEMA): Promise<TestPostgres> {
  const pg = await PGlite.create();
  await pg.exec(schema);
  const server = new PGLiteSocketServer({ db: pg, port: 0, host: "127.0.0.1", maxConnections: 4 });
  await server.start();
  const [host, port] = server.getServerConn().split(":");
  const sockets = new Set<Socket>();
  let opened = 0;
  let budget = Infinity;
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  const proxy: Server = createServer((client) => {
    opened++;
    const upstream = createConnection({ host, port: Number(port) });
    upstream.on("data", (chunk: Buffer) => {
      budget -= chunk.length;
      if (budget < 0) {
        budget = Infinity;
        dropAll();
      }
    });
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(a);
      a.pipe(b);
      a.on("error", () => b.destroy());
      a.on("close", () => {
        sockets.delete(a);
        b.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const address = proxy.address() as { port: number };
  running.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => proxy.close(resolve));
    await server.stop();
    await pg.close();
  });
  return {
    pg,
    url: `postgres://postgres@127.0.0.1:${address.port}/postgres`,
    dropConnections: dropAll,
    dropAfter: (bytes) => {
      budget = bytes;
    },
    connections: () => opened,
  };
}

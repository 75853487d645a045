/**
 * A PGlite server for bench/postgres.ts, in its own process so that the engine's work is not
 * counted against the client measured: seed 002's tables, the messages table with `--rows` generated rows,
 * served on 127.0.0.1. Prints `ready <port>` when it accepts connections; stops on SIGTERM.
 *
 *   npx tsx bench/pgliteServer.ts --rows 1000000
 */
import { parseArgs } from "node:util";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { PRODUCT_SCHEMA } from "../loaders/sample/product.ts";

const { values } = parseArgs({ options: { rows: { type: "string", default: "1000000" } } });
const rows = Number(values.rows);
const pg = await PGlite.create();
await pg.exec(PRODUCT_SCHEMA);
await pg.exec(`
  insert into messages
    select md5('m' || g)::uuid, md5('c' || (g / 12))::uuid, case when g % 2 = 0 then 'user' else 'assistant' end,
           'message ' || g || ' about the episode, with enough words to look like a real chat turn',
           g % 700, '2024-01-01'::timestamptz + g * interval '2 seconds', '2024-01-01'::timestamptz + g * interval '2 seconds'
    from generate_series(1, ${rows}) g;
  -- An incremental load reads in (updated_at, id) order, so a table loaded that way has this index.
  create index messages_updated_at_id on messages (updated_at, id);
  analyze messages;
`);
const server = new PGLiteSocketServer({ db: pg, port: 0, host: "127.0.0.1", maxConnections: 2 });
await server.start();
process.stdout.write(`ready ${server.getServerConn().split(":")[1]}\n`);
process.on("SIGTERM", () => {
  void server.stop().then(() => pg.close().then(() => process.exit(0)));
});

import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { UserError, messageOf } from "../../runner/errors.ts";

export interface ServedPglite {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  close(): Promise<void>;
}

/**
 * An embedded PostgreSQL (PGlite) holding a SQL dump, served on 127.0.0.1 for as long as a load
 * needs it: `load postgres` reaches it through `pg` like any server, so the bundled sample's
 * product database goes through the same loader, marks and transactions as a user's.
 *
 * A new PGlite spends about five seconds in initdb, an existing data directory opens in half a
 * second, so the dump is loaded once into `<dump>.pgdata/` (built aside and renamed into place, so
 * a kill leaves no half-built one) and reopened from there until the dump's bytes change.
 */
export async function servePglite(dump: string): Promise<ServedPglite> {
  let sql: string;
  try {
    sql = readFileSync(dump, "utf8");
  } catch (error) {
    throw new UserError(`cannot read the PGlite dump ${dump}: ${messageOf(error)}`);
  }
  const dataDir = await dataDirOf(dump, sql);
  const pg = await PGlite.create({ dataDir });
  const server = new PGLiteSocketServer({ db: pg, port: 0, host: "127.0.0.1" });
  try {
    await server.start();
  } catch (error) {
    await pg.close();
    throw error;
  }
  const port = server.getServerConn().split(":").at(-1);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    close: async () => {
      await server.stop();
      await pg.close();
    },
  };
}

async function dataDirOf(dump: string, sql: string): Promise<string> {
  const dir = `${dump}.pgdata`;
  const stamp = `${dir}/duckform-dump.sha256`;
  const sha256 = createHash("sha256").update(sql).digest("hex");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === sha256) return dir;
  const building = `${dir}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  const pg = await PGlite.create({ dataDir: building });
  try {
    await pg.exec(sql);
  } catch (error) {
    await pg.close();
    rmSync(building, { recursive: true, force: true });
    throw new UserError(`${dump}: the dump does not load into PostgreSQL: ${messageOf(error)}`);
  }
  await pg.close();
  writeFileSync(`${building}/duckform-dump.sha256`, sha256);
  rmSync(dir, { recursive: true, force: true });
  renameSync(building, dir);
  return dir;
}

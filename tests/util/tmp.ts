import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { Database } from "../../runner/database.ts";

const cleanups: (() => void)[] = [];

afterEach(() => {
  // Last in, first out: databases close before their directories go.
  while (cleanups.length > 0) cleanups.pop()!();
});

/** A fresh directory under the OS temp dir, removed after the current test. */
export function tempDir(prefix = "duckform-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A database file in a fresh temp dir, closed after the current test. */
export async function tempDatabase(catalog = "duckform"): Promise<Database> {
  const db = await Database.open(join(tempDir(), `${catalog}.duckdb`), catalog);
  cleanups.push(() => db.close());
  return db;
}

/** All rows of a query as plain JS objects (BIGINTs as numbers when they fit, JSON as text). */
export async function queryRows(db: Database, sql: string): Promise<Record<string, unknown>[]> {
  return db.withConnection(async (connection) => {
    const reader = await connection.runAndReadAll(sql);
    return reader
      .getRowObjectsJS()
      .map((row) =>
        Object.fromEntries(
          Object.entries(row).map(([k, v]) => [k, typeof v === "bigint" && Number.isSafeInteger(Number(v)) ? Number(v) : v]),
        ),
      );
  });
}

/** `queryRows` on a database file opened read-only for the query, then closed (a pipeline may open it next). */
export async function readOnlyRows(file: string, sql: string, catalog = "duckform"): Promise<Record<string, unknown>[]> {
  const db = await Database.open(file, catalog, { readOnly: true });
  try {
    return await queryRows(db, sql);
  } finally {
    db.close();
  }
}

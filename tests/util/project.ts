import { cpSync } from "node:fs";
import { join, resolve } from "node:path";
import { Database } from "../../runner/database.ts";
import { tempDir } from "./tmp.ts";

const FIXTURES = resolve(import.meta.dirname, "..", "fixtures");

/** A copy of `tests/fixtures/<name>` in a temp dir, so runs never touch the checked-in fixture. */
export function copyFixture(name: string): string {
  const dir = join(tempDir(`duckform-${name}-`), name);
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

/**
 * Runs SQL against a project's database file and closes it again, so that the runner can open
 * the same file next (DuckDB lets one process attach a file once at a time).
 */
export async function sqlRows(file: string, sql: string, catalog = "test-proj"): Promise<Record<string, unknown>[]> {
  const db = await Database.open(file, catalog);
  try {
    return await db.withConnection(async (connection) => {
      const reader = await connection.runAndReadAll(sql);
      return reader
        .getRowObjectsJS()
        .map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v])));
    });
  } finally {
    db.close();
  }
}

/** The database file `duckform run` uses by default for a fixture with defaultProject test-proj. */
export function projectDatabase(dir: string, catalog = "test-proj"): string {
  return join(dir, `${catalog}.duckdb`);
}

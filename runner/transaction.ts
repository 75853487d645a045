import type { DuckDBConnection } from "@duckdb/node-api";

/**
 * Runs `work` between `begin transaction` and `commit`; rolls back when it throws and
 * rethrows its error. The rollback's own failure is ignored: after an error DuckDB may
 * already have aborted the transaction, and that follow-up must not hide the first error.
 */
export async function inTransaction<T>(connection: DuckDBConnection, work: () => Promise<T>): Promise<T> {
  await connection.run("begin transaction");
  try {
    const result = await work();
    await connection.run("commit");
    return result;
  } catch (error) {
    await connection.run("rollback").catch(() => undefined);
    throw error;
  }
}

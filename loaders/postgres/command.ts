import { InvalidArgumentError, type Command } from "commander";
import { runLoadCommand, type LoadCommandOptions } from "../command.ts";
import type { PostgresLandResult } from "./load.ts";

/** `duckform load postgres --url URL [--tables a,b] [--cursor column]`. Exits 1 when any table failed. */
export function registerPostgresCommand(load: Command): void {
  load
    .command("postgres")
    .description("Land tables of a PostgreSQL database into raw.postgres_<table>, incrementally by a cursor column")
    .requiredOption("--url <url>", "postgres://user@host:5432/dbname (the password from the URL or $PGPASSWORD)")
    .option("--tables <tables>", "tables to load, comma-separated (default: conversations,messages,service_jobs,user_actions)", listOption)
    .option(
      "--cursor <column>",
      "the column rows are loaded by; it must grow with every insert and update (default: updated_at, else created_at)",
    )
    .option("--batch-rows <n>", "rows per batch, each landed in one transaction (default 50000)", rowsOption)
    .option("--project <dir>", "Dataform project directory", ".")
    .option("--database <file>", "DuckDB database file (default: the project's)")
    .action((options: PostgresCommandOptions) =>
      runLoadCommand(
        "load postgres",
        options,
        async (db, onProgress) => {
          const { loadPostgres } = await import("./load.ts");
          const results = await loadPostgres(db, {
            url: options.url,
            tables: options.tables,
            cursor: options.cursor,
            batchRows: options.batchRows,
            onProgress,
            onWarning: (message) => console.error(`duckform: warning: ${message}`),
          });
          return { results, summary: rowsPerTable(results) };
        },
        { refusedName: (result) => result.path },
      ),
    );
}

interface PostgresCommandOptions extends LoadCommandOptions {
  url: string;
  tables?: string[];
  cursor?: string;
  batchRows?: number;
}

function listOption(value: string): string[] {
  return value
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
}

function rowsOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a whole number ≥ 1, got "${value}"`);
  return n;
}

function rowsPerTable(results: PostgresLandResult[]): string {
  const rows = new Map<string, number>();
  for (const r of results) rows.set(r.table, (rows.get(r.table) ?? 0) + r.rowsLanded);
  const perTable = [...rows].map(([table, n]) => `raw.${table} ${n.toLocaleString("en")}`).join(", ");
  return perTable ? ` (${perTable})` : "";
}

/**
 * duckform_meta.forgotten: the hashes of every identifier of every forgotten person (never the
 * identifiers), and the check every landing makes against it, so that a person once forgotten
 * stays forgotten however often their files are landed again.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { quoteLiteral, quoteQualified } from "../runner/quote.ts";
import { META_SCHEMA } from "../runner/results.ts";
import { NOTHING_FORGOTTEN, defineMatchMacros, identifierHashSql, type ForgottenSet } from "./match.ts";
import { sweep, type TableSweep } from "./sweep.ts";

const TABLE = "forgotten";

function literalList(values: string[]): string {
  return `[${values.map(quoteLiteral).join(", ")}]::varchar[]`;
}

function table(catalog?: string): string {
  return quoteQualified(catalog, META_SCHEMA, TABLE);
}

export async function ensureForgotten(connection: DuckDBConnection, catalog: string): Promise<void> {
  await connection.run(`
    create schema if not exists ${quoteQualified(catalog, META_SCHEMA)};
    create table if not exists ${table(catalog)} (
      forget_id varchar, identifier_hash varchar, first_word_hash varchar, words integer, forgotten_at timestamptz
    )`);
}

/** What is forgotten in this database; nothing when it never forgot anyone (no table). */
export async function readForgotten(connection: DuckDBConnection, catalog?: string): Promise<ForgottenSet> {
  const exists = await connection.runAndReadAll(
    `select 1 from duckdb_tables() where database_name = coalesce($1, current_database()) and schema_name = $2 and table_name = $3`,
    [catalog ?? null, META_SCHEMA, TABLE],
  );
  if (exists.getRows().length === 0) return NOTHING_FORGOTTEN;
  const reader = await connection.runAndReadAll(
    `select coalesce(list(distinct identifier_hash), []), coalesce(list(distinct first_word_hash), []), coalesce(max(words), 0) from ${table(catalog)}`,
  );
  const [hashes, first, words] = reader.getRows()[0] as [{ items: string[] }, { items: string[] }, number];
  return { hashes: hashes.items.map(String), firstWords: first.items.map(String), maxWords: Number(words) };
}

/** Whether this value is one of the identifiers already forgotten (a forget-user run again after a crash). */
export async function isForgotten(connection: DuckDBConnection, catalog: string, value: string): Promise<boolean> {
  const set = await readForgotten(connection, catalog);
  if (set.hashes.length === 0) return false;
  await defineMatchMacros(connection, set);
  const reader = await connection.runAndReadAll(`select list_contains(${literalList(set.hashes)}, ${identifierHashSql("$1")})`, [value]);
  return reader.getRows()[0][0] === true;
}

/** Adds the hashes of `values` (identifiers in the clear, which are not stored) under one forget id; returns how many were new. */
export async function recordForgotten(connection: DuckDBConnection, catalog: string, forgetId: string, values: string[]): Promise<number> {
  await ensureForgotten(connection, catalog);
  await defineMatchMacros(connection);
  const result = await connection.run(
    `insert into ${table(catalog)}
     select distinct $1, ${identifierHashSql("v")}, duckform_forget_hash(duckform_forget_words(v)[1]), len(duckform_forget_words(v)), current_timestamp
     from unnest(${literalList(values)}) as u(v)
     where len(duckform_forget_words(v)) > 0 and ${identifierHashSql("v")} not in (select identifier_hash from ${table(catalog)})`,
    [forgetId],
  );
  return result.rowsChanged;
}

/**
 * The loaders' check, inside their landing transaction: the rows this load put into `raw.<table>`
 * (and the quarantine) are swept for forgotten people before the ledger records the counts.
 * Returns the rows deleted per file; nothing, at the cost of one lookup, when nobody is forgotten.
 */
export async function sweepLanded(
  connection: DuckDBConnection,
  table: string,
  loadId: string,
  fileName?: string,
): Promise<Map<string, number>> {
  const set = await readForgotten(connection);
  const deleted = new Map<string, number>();
  if (set.hashes.length === 0) return deleted;
  const catalog = String((await connection.runAndReadAll("select current_database()")).getRows()[0][0]);
  const where = `_load_id = ${quoteLiteral(loadId)}${fileName === undefined ? "" : ` and _file = ${quoteLiteral(fileName)}`}`;
  const sweeps: TableSweep[] = [
    ...(await sweep(connection, catalog, set, { only: { schema: "raw", table }, where })),
    ...(await sweep(connection, catalog, set, { only: { schema: "raw", table: "quarantine" }, where })),
  ];
  for (const s of sweeps.filter((s) => s.table === table)) for (const [file, n] of s.byFile) deleted.set(file, n);
  return deleted;
}

/** The seed loader's check: a seed table just replaced is swept; returns the rows deleted. */
export async function sweepSeed(connection: DuckDBConnection, name: string): Promise<number> {
  const set = await readForgotten(connection);
  if (set.hashes.length === 0) return 0;
  const catalog = String((await connection.runAndReadAll("select current_database()")).getRows()[0][0]);
  const sweeps = await sweep(connection, catalog, set, { only: { schema: "seeds", table: name } });
  return sweeps.reduce((n, s) => n + s.deleted, 0);
}

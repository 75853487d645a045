import pg from "pg";
import { UserError, messageOf } from "../../runner/errors.ts";

/** A table of the product database as the loader reads it: its columns' types, primary key and cursor column. */
export interface PostgresTable {
  /** As the user named it: `messages` or `app.messages`. */
  name: string;
  /** The name quoted for SQL, schema included. */
  sql: string;
  types: Map<string, string>;
  primaryKey: string[];
  cursor: string;
}

/** The cursor column tried, in order, when `--cursor` is not given. */
export const DEFAULT_CURSORS = ["updated_at", "created_at"];

/** `postgres://user@host:port/db`: the URL without its password or query, for messages and the ledger. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = "";
    parsed.search = "";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    throw new UserError("--url must be a PostgreSQL URL such as postgres://user@host:5432/dbname");
  }
}

/**
 * A connection to the product database. The password is the URL's or, as for psql, $PGPASSWORD
 * (the pg client reads it); it never appears in a message, which names the URL without it. The
 * session runs in UTC with ISO dates, so cursor values read back as text compare exactly when
 * sent again and timestamps come in the one text form payload.ts turns into row_to_json's; its
 * string literals are standard (a backslash is itself), as runner/quote.ts writes them.
 */
export async function connectPostgres(url: string): Promise<pg.Client> {
  const shown = displayUrl(url);
  const client = new pg.Client({ connectionString: url, application_name: "duckform" });
  // A dropped connection surfaces as the failed query; without a listener it would also crash the process.
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("set timezone = 'UTC'; set datestyle = 'ISO, MDY'; set standard_conforming_strings = on");
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new UserError(`cannot connect to ${shown}: ${messageOf(error)}`);
  }
  return client;
}

export function quotePgIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Columns, primary key and cursor column of `name`; a UserError naming what is missing. */
export async function describeTable(client: pg.Client, name: string, cursor: string | undefined, shown: string): Promise<PostgresTable> {
  if (!/^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new UserError(`--tables: "${name}" is not a table name (letters, digits, underscores, optionally schema.table)`);
  }
  const sql = name.split(".").map(quotePgIdent).join(".");
  const columns = await client.query<{ name: string; type: string }>(
    `select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
     where attrelid = to_regclass($1) and attnum > 0 and not attisdropped order by attnum`,
    [sql],
  );
  if (columns.rows.length === 0) throw new UserError(`table ${name} does not exist in ${shown}`);
  const keys = await client.query<{ name: string }>(
    `select a.attname as name from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
     where i.indrelid = to_regclass($1) and i.indisprimary order by array_position(i.indkey, a.attnum)`,
    [sql],
  );
  if (keys.rows.length === 0) {
    throw new UserError(
      `table ${name} in ${shown} has no primary key: the high-water mark is (cursor, primary key), so rows that share a cursor value need one`,
    );
  }
  const types = new Map(columns.rows.map((c) => [c.name, c.type]));
  const chosen = cursor ?? DEFAULT_CURSORS.find((c) => types.has(c));
  if (chosen === undefined || !types.has(chosen)) {
    throw new UserError(
      `table ${name} in ${shown} has no column ${chosen ?? DEFAULT_CURSORS.join(" or ")} to load by; pass --cursor with a column that grows with every insert and update`,
    );
  }
  return { name, sql, types, primaryKey: keys.rows.map((k) => k.name), cursor: chosen };
}

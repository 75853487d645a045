/**
 * Removes forgotten people from tables found in the catalog: a row that is theirs (a
 * PERSON_FIELDS column or payload key holds one of their identifiers) is deleted with what
 * hangs off it by message_key; their identifiers are redacted out of every other text. Runs
 * inside the caller's transaction, so a sweep lands whole or not at all.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { quoteIdent, quoteLiteral, quoteQualified } from "../runner/quote.ts";
import { META_SCHEMA } from "../runner/results.ts";
import { defineMatchMacros, isForgottenSql, mayMentionSql, redactText, type ForgottenSet } from "./match.ts";
import { ENRICHMENT_SCHEMA, PERSON_FIELDS } from "./people.ts";

/** Tables that hold hashes only and are the record of forgetting itself. */
export const PRIVACY_TABLES = ["forgotten", "privacy_audit"];

export interface TableSweep {
  schema: string;
  table: string;
  deleted: number;
  redacted: number;
  /** Rows deleted per `_file`, for the load ledger's counts. */
  byFile: Map<string, number>;
}

interface Column {
  name: string;
  type: string;
}

interface Shape {
  schema: string;
  table: string;
  columns: Column[];
  /** Key and unique columns, which an update may not change. */
  keyColumns: Set<string>;
}

async function shapes(connection: DuckDBConnection, catalog: string, only?: { schema: string; table: string }): Promise<Shape[]> {
  // Only the one table's catalog rows when sweeping one: a loader sweeps after every file it lands.
  const which = `database_name = $1 and ($2::varchar is null or (schema_name = $2 and table_name = $3))`;
  const params = [catalog, only?.schema ?? null, only?.table ?? null];
  const tables = (
    await connection.runAndReadAll(
      `select schema_name, table_name from duckdb_tables() where ${which} and not temporary order by 1, 2`,
      params,
    )
  ).getRows() as string[][];
  const columns = (
    await connection.runAndReadAll(`select schema_name, table_name, column_name, data_type from duckdb_columns() where ${which}`, params)
  ).getRows() as string[][];
  const keys = (
    await connection.runAndReadAll(
      `select schema_name, table_name, unnest(constraint_column_names) from duckdb_constraints()
       where ${which} and constraint_type in ('PRIMARY KEY', 'UNIQUE')`,
      params,
    )
  ).getRows() as string[][];
  return tables
    .filter(([schema, table]) => !(schema === META_SCHEMA && PRIVACY_TABLES.includes(table)))
    .map(([schema, table]) => ({
      schema,
      table,
      columns: columns.filter((c) => c[0] === schema && c[1] === table).map((c) => ({ name: c[2], type: c[3] })),
      keyColumns: new Set(keys.filter((k) => k[0] === schema && k[1] === table).map((k) => k[2])),
    }));
}

/** SQL: the row is a forgotten person's own. */
function ownRowSql(shape: Shape): string | null {
  const checks: string[] = [];
  for (const c of shape.columns) {
    if (c.type === "VARCHAR" && PERSON_FIELDS.includes(c.name)) checks.push(isForgottenSql(quoteIdent(c.name)));
    if (c.type === "JSON" && c.name === "payload") {
      for (const key of PERSON_FIELDS) checks.push(isForgottenSql(`(${quoteIdent(c.name)} ->> ${quoteLiteral(key)})`));
    }
  }
  return checks.length > 0 ? checks.join(" or ") : null;
}

function textColumns(shape: Shape): Column[] {
  return shape.columns.filter((c) => ["VARCHAR", "JSON", "VARCHAR[]"].includes(c.type) && !shape.keyColumns.has(c.name));
}

function mentionSql(c: Column): string {
  const col = quoteIdent(c.name);
  return c.type === "VARCHAR[]" ? mayMentionSql(`array_to_string(${col}, ' ')`) : mayMentionSql(`${col}::varchar`);
}

/** Rewrites one column of the given rows with their forgotten identifiers redacted (redactText). */
async function redactColumn(connection: DuckDBConnection, t: string, c: Column, rows: bigint[], set: ForgottenSet): Promise<bigint[]> {
  const col = quoteIdent(c.name);
  const read = c.type === "VARCHAR[]" ? `to_json(${col})::varchar` : `${col}::varchar`;
  const reader = await connection.runAndReadAll(`select rowid, ${read} from ${t} where rowid in (${rows.join(", ")})`);
  const changed: bigint[] = [];
  for (const [rowid, value] of reader.getRows()) {
    if (value === null) continue;
    const text = String(value);
    const redacted =
      c.type === "VARCHAR[]"
        ? JSON.stringify((JSON.parse(text) as (string | null)[]).map((x) => (x === null ? x : redactText(x, set))))
        : redactText(text, set);
    if (redacted === text) continue;
    const write = c.type === "VARCHAR[]" ? "from_json($1, '[\"VARCHAR\"]')" : c.type === "JSON" ? "$1::json" : "$1";
    await connection.run(`update ${t} set ${col} = ${write} where rowid = ${String(rowid)}`, [redacted]);
    changed.push(rowid as bigint);
  }
  return changed;
}

const has = (shape: Shape, name: string, type = "VARCHAR") => shape.columns.some((c) => c.name === name && c.type === type);

interface Hit {
  rowid: bigint;
  own: boolean;
  /** Text columns that may mention a forgotten identifier. */
  mentions: string[];
  file: string | null;
  messageKey: string | null;
}

/** One scan of a table: its rows that are a forgotten person's own or may mention one. */
async function findHits(connection: DuckDBConnection, t: string, shape: Shape, where?: string): Promise<Hit[]> {
  const own = ownRowSql(shape) ?? "false";
  const text = textColumns(shape);
  const flags = text.map((c, i) => `${mentionSql(c)} as m${i}`);
  const file = has(shape, "_file") ? "_file" : "null";
  const key = has(shape, "message_key") ? "message_key" : "null";
  const reader = await connection.runAndReadAll(
    `select * from (select rowid, ${own} as own, ${file} as f, ${key} as k${flags.map((f) => `, ${f}`).join("")} from ${t}${where ? ` where ${where}` : ""})
     where own${text.map((_, i) => ` or m${i}`).join("")}`,
  );
  return reader.getRows().map((row) => ({
    rowid: row[0] as bigint,
    own: row[1] === true,
    file: row[2] === null ? null : String(row[2]),
    messageKey: row[3] === null ? null : String(row[3]),
    mentions: text.filter((_, i) => row[4 + i] === true).map((c) => c.name),
  }));
}

const rowids = (hits: Hit[]) => hits.map((h) => String(h.rowid)).join(", ");

/**
 * Sweeps every table of `catalog` (or only `only`), restricted to rows matching `where` when
 * given (a loader sweeps only the rows its load landed). Each table is scanned once with the
 * cheap test (mayMentionSql); only the rows it finds are deleted or rewritten, by rowid.
 * Returns what it did per table that it changed.
 */
export async function sweep(
  connection: DuckDBConnection,
  catalog: string,
  set: ForgottenSet,
  options: { only?: { schema: string; table: string }; where?: string } = {},
): Promise<TableSweep[]> {
  if (set.hashes.length === 0) return [];
  await defineMatchMacros(connection, set);
  const all = await shapes(connection, catalog, options.only);
  const hits = new Map<Shape, Hit[]>();
  for (const shape of all)
    hits.set(shape, await findHits(connection, quoteQualified(catalog, shape.schema, shape.table), shape, options.where));
  // The messages that go (theirs) or change (mentioning them), from every table that keys rows by message.
  const gone = new Set<string>();
  const changed = new Set<string>();
  for (const [shape, found] of hits) {
    if (shape.schema === ENRICHMENT_SCHEMA) continue;
    for (const h of found) if (h.messageKey !== null) (h.own ? gone : changed).add(h.messageKey);
  }
  const out: TableSweep[] = [];
  for (const [shape, found] of hits) {
    const t = quoteQualified(catalog, shape.schema, shape.table);
    const result: TableSweep = { schema: shape.schema, table: shape.table, deleted: 0, redacted: 0, byFile: new Map() };
    const cascade = has(shape, "message_key") ? [...gone, ...(shape.schema === ENRICHMENT_SCHEMA ? changed : [])] : [];
    if (cascade.length > 0) {
      const keyed = await connection.runAndReadAll(
        `select rowid, ${has(shape, "_file") ? "_file" : "null"} from ${t} where message_key in (${cascade.map(quoteLiteral).join(", ")})${options.where ? ` and (${options.where})` : ""}`,
      );
      for (const [rowid, file] of keyed.getRows()) {
        if (!found.some((h) => h.rowid === rowid))
          found.push({ rowid: rowid as bigint, own: true, file: file === null ? null : String(file), messageKey: null, mentions: [] });
        else found.find((h) => h.rowid === rowid)!.own = true;
      }
    }
    const doomed = found.filter((h) => h.own);
    if (doomed.length > 0) {
      for (const h of doomed) if (h.file !== null) result.byFile.set(h.file, (result.byFile.get(h.file) ?? 0) + 1);
      result.deleted = (await connection.run(`delete from ${t} where rowid in (${rowids(doomed)})`)).rowsChanged;
    }
    const kept = found.filter((h) => !h.own && h.mentions.length > 0);
    const redacted = new Set<bigint>();
    for (const c of textColumns(shape)) {
      const rows = kept.filter((h) => h.mentions.includes(c.name)).map((h) => h.rowid);
      if (rows.length > 0) for (const r of await redactColumn(connection, t, c, rows, set)) redacted.add(r);
    }
    result.redacted = redacted.size;
    if (result.deleted > 0 || result.redacted > 0) out.push(result);
  }
  return out;
}

/**
 * Lowers the load ledger's rows_landed by the raw rows a sweep or retention deleted, on each
 * file's current ledger row, so that the ledger still agrees with the raw tables
 * (ledger_disagrees_with_raw_rows) and a file that lost rows is still "landed", never landed again.
 */
export async function subtractFromLedger(connection: DuckDBConnection, catalog: string, sweeps: TableSweep[]): Promise<void> {
  const ledger = quoteQualified(catalog, "raw", "load_ledger");
  for (const s of sweeps) {
    if (s.schema !== "raw" || s.table === "quarantine" || s.table === "load_ledger") continue;
    for (const [file, n] of s.byFile) {
      await connection.run(
        `update ${ledger} set rows_landed = rows_landed - $3
         where source_table = $1 and file_name = $2 and loaded_at = (
           select max(loaded_at) from ${ledger} where source_table = $1 and file_name = $2 and status in ('landed', 'replaced'))
         and status in ('landed', 'replaced')`,
        [s.table, file, n],
      );
    }
  }
}

/** `{ "raw.events": 12, … }`: rows deleted or redacted per table, for the audit row. */
export function sweepCounts(sweeps: TableSweep[]): Record<string, { deleted: number; redacted: number }> {
  return Object.fromEntries(sweeps.map((s) => [`${s.schema}.${s.table}`, { deleted: s.deleted, redacted: s.redacted }]));
}

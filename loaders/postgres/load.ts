import { createHash } from "node:crypto";
import type pg from "pg";
import Cursor from "pg-cursor";
import type { Database } from "../../runner/database.ts";
import { UserError, messageOf } from "../../runner/errors.ts";
import { quoteLiteral } from "../../runner/quote.ts";
import { landDocuments, type LandResult, type SourceDocument } from "../land.ts";
import { RAW_SCHEMA, ensureLandingTables, newLoadId } from "../ledger.ts";
import type { LoadProgress } from "../progress.ts";
import { connectPostgres, describeTable, displayUrl, quotePgIdent, type PostgresTable } from "./source.ts";

/** Seed 002's product tables: what `load postgres` reads when no --tables are given. */
export const DEFAULT_TABLES = ["conversations", "messages", "service_jobs", "user_actions"];

/** Rows per batch: one transaction and one ledger entry each, and what the loader holds in memory at a time. */
export const DEFAULT_BATCH_ROWS = 50_000;

export interface PostgresLandResult extends LandResult {
  table: string;
}

export interface PostgresLoadOptions {
  url: string;
  tables?: string[];
  /** The column every table is loaded by (default: updated_at, else created_at). */
  cursor?: string;
  batchRows?: number;
  loadId?: string;
  onProgress?: (state: LoadProgress) => void;
  onWarning?: (message: string) => void;
}

/**
 * Where a table's last committed batch ended: the cursor value and primary key of its last row,
 * as PostgreSQL writes them as text (microseconds included). `batch` orders marks written in the
 * same instant.
 */
interface Mark {
  column: string;
  cursor: string;
  key: string[];
  batch: number;
}

/**
 * Lands tables of a live PostgreSQL database into `raw.postgres_<table>`, incrementally: each
 * table is read in (cursor, primary key) order after its high-water mark, through a server-side
 * cursor, one batch at a time, so memory holds one batch whatever the table's size. Each batch
 * lands in one transaction with its ledger entry, whose name carries the mark it ends at
 * (`messages@{"column":"updated_at",…}`): a load that dies mid-table (a dropped connection, a
 * kill) resumes after the last committed batch, nothing lost and nothing twice. The primary key
 * in the mark keeps rows that share a cursor value apart across a batch boundary. An updated row
 * whose cursor moved lands again; silver keeps the latest copy. Rows whose cursor is NULL are
 * never read, and are counted in a warning. A table that cannot be read is a failed result and
 * the others are still tried.
 */
export async function loadPostgres(db: Database, options: PostgresLoadOptions): Promise<PostgresLandResult[]> {
  const shown = displayUrl(options.url);
  const tables = options.tables && options.tables.length > 0 ? options.tables : DEFAULT_TABLES;
  const loadId = options.loadId ?? newLoadId();
  const client = await connectPostgres(options.url);
  const progress: LoadProgress = { files: 0, totalFiles: 0, bytes: 0, totalBytes: 0, rows: 0 };
  const results: PostgresLandResult[] = [];
  try {
    const described: PostgresTable[] = [];
    for (const name of tables) described.push(await describeTable(client, name, options.cursor, shown));
    for (const table of described) {
      const raw = rawName(table.name);
      await db.withConnection((connection) => ensureLandingTables(connection, raw));
      try {
        await landTable(db, client, table, raw, shown, loadId, options, progress, results);
      } catch (error) {
        if (error instanceof UserError) throw error;
        const [failed] = await landDocuments(db, raw, [failedBatch(table, shown, messageOf(error))], { loadId });
        results.push({ ...failed!, table: raw });
      }
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  return results;
}

/** `raw.postgres_<table>`, the schema left out: `app.messages` lands in raw.postgres_messages. */
export function rawName(table: string): string {
  return `postgres_${table.split(".").at(-1)!.toLowerCase()}`;
}

async function landTable(
  db: Database,
  client: pg.Client,
  table: PostgresTable,
  raw: string,
  shown: string,
  loadId: string,
  options: PostgresLoadOptions,
  progress: LoadProgress,
  results: PostgresLandResult[],
): Promise<void> {
  let mark = await lastMark(db, raw, table);
  const nulls = await client.query<{ n: string }>(`select count(*) as n from ${table.sql} where ${quotePgIdent(table.cursor)} is null`);
  if (Number(nulls.rows[0]!.n) > 0) {
    options.onWarning?.(
      `${table.name}: ${nulls.rows[0]!.n} rows have no ${table.cursor} and are not loaded; give them one, or load by another --cursor`,
    );
  }
  const columns = [table.cursor, ...table.primaryKey];
  const t = (c: string) => `t.${quotePgIdent(c)}`;
  const after = mark
    ? ` and (${columns.map(t).join(", ")}) > (${columns.map((c, i) => `$${i + 1}::${table.types.get(c)}`).join(", ")})`
    : "";
  const text = `select row_to_json(t)::text, ${columns.map((c) => `${t(c)}::text`).join(", ")}
    from ${table.sql} as t where ${t(table.cursor)} is not null${after}
    order by ${columns.map(t).join(", ")}`;
  const cursor = client.query(new Cursor(text, mark ? [mark.cursor, ...mark.key] : [], { rowMode: "array" }));
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  let readFailed = false;
  const read = () => {
    const rows = cursor.read(batchRows);
    rows.catch(() => (readFailed = true));
    return rows;
  };
  try {
    // The next batch is read from PostgreSQL while this one lands in DuckDB.
    let next = read();
    for (;;) {
      const rows = (await next) as string[][];
      if (rows.length === 0) break;
      next = rows.length < batchRows ? Promise.resolve([]) : read();
      const last = rows.at(-1)!;
      mark = { column: table.cursor, cursor: last[1]!, key: last.slice(2), batch: (mark?.batch ?? 0) + 1 };
      const [result] = await landDocuments(db, raw, [batchDocument(table, shown, mark, rows)], { loadId });
      results.push({ ...result!, table: raw });
      progress.files++;
      progress.rows += result!.rowsLanded;
      options.onProgress?.(progress);
    }
  } finally {
    // Closing a cursor whose connection dropped never settles; the client is unusable then anyway.
    if (!readFailed) await cursor.close().catch(() => undefined);
  }
}

function batchDocument(table: PostgresTable, shown: string, mark: Mark, rows: string[][]): SourceDocument {
  const hash = createHash("sha256");
  let bytes = 0;
  const records = rows.map((row, i) => {
    hash.update(row[0]!).update("\n");
    bytes += row[0]!.length + 1;
    return { line: i + 1, json: row[0]! };
  });
  return {
    path: `${shown} ${table.name}`,
    fileName: `${table.name}@${JSON.stringify(mark)}`,
    sha256: hash.digest("hex"),
    bytes,
    lines: rows.length,
    records,
  };
}

function failedBatch(table: PostgresTable, shown: string, error: string): SourceDocument {
  return {
    path: `${shown} ${table.name}`,
    fileName: `${table.name}@failed`,
    sha256: "failed",
    bytes: 0,
    lines: 0,
    records: [],
    failure: `${shown} ${table.name}: ${error}; the batches before it are committed and a rerun resumes after the last of them`,
  };
}

/** The mark of the table's last committed batch in the ledger, or undefined before its first load. */
async function lastMark(db: Database, raw: string, table: PostgresTable): Promise<Mark | undefined> {
  const names = await db.withConnection(async (connection) => {
    const reader = await connection.runAndReadAll(`
      select file_name from ${RAW_SCHEMA}.load_ledger
      where source_table = ${quoteLiteral(raw)} and status in ('landed', 'replaced')
      qualify loaded_at = max(loaded_at) over ()
    `);
    return reader.getRows().map((row) => String(row[0]));
  });
  const marks = names.map((name) => JSON.parse(name.slice(name.indexOf("@") + 1)) as Mark);
  const mark = marks.sort((a, b) => b.batch - a.batch)[0];
  if (mark && mark.column !== table.cursor) {
    throw new UserError(
      `raw.${raw} was loaded by ${mark.column}, not ${table.cursor}: pass --cursor ${mark.column}, or drop raw.${raw} and its ledger rows to reload it by ${table.cursor}`,
    );
  }
  return mark;
}

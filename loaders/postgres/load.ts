import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import type pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import type { Database } from "../../runner/database.ts";
import { UserError, messageOf } from "../../runner/errors.ts";
import { quoteLiteral } from "../../runner/quote.ts";
import { inTransaction } from "../../runner/transaction.ts";
import { sweepLanded } from "../../privacy/forgotten.ts";
import { landDocuments, type LandResult, type SourceDocument } from "../land.ts";
import { RAW_SCHEMA, applyDecision, ensureLandingTables, newLoadId, rawTable, writeLedger } from "../ledger.ts";
import type { LoadProgress } from "../progress.ts";
import { copyBatches, type CopyBatch } from "./copyBatches.ts";
import { batchRowsSql, copyPlan, decodeCopyText, type CopyPlan } from "./payload.ts";
import { connectPostgres, describeTable, displayUrl, quotePgIdent, type PostgresTable } from "./source.ts";

/** Seed 002's product tables: what `load postgres` reads when no --tables are given. */
export const DEFAULT_TABLES = ["conversations", "messages", "service_jobs", "user_actions"];

/** Rows per batch: one transaction and one ledger entry each, and one file on disk (two at a time while the next is read). */
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
 * table is read in (cursor, primary key) order after its high-water mark by one
 * `COPY (select …) TO STDOUT`, streamed through the pg client into batch files of `batchRows`
 * rows (copyBatches.ts), so memory holds a chunk of the stream whatever the table's size. DuckDB
 * reads each file and writes the payloads row_to_json would have (payload.ts) in one transaction
 * with the batch's ledger entry, whose name carries the mark it ends at
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
  const plan = copyPlan(table);
  const columns = [table.cursor, ...table.primaryKey];
  const t = (c: string) => `t.${quotePgIdent(c)}`;
  // COPY takes no parameters: the mark's values go in as literals, which the session reads as
  // standard strings (source.ts), cast to the columns' types.
  const after = mark
    ? ` and (${columns.map(t).join(", ")}) > (${[mark.cursor, ...mark.key].map((v, i) => `${quoteLiteral(v)}::${table.types.get(columns[i]!)}`).join(", ")})`
    : "";
  const copy = client.query(
    copyTo(`copy (select ${plan.selectSql} from ${table.sql} as t where ${t(table.cursor)} is not null${after}
      order by ${columns.map(t).join(", ")}) to stdout`),
  );
  const dir = await mkdtemp(join(tmpdir(), "duckform-pg-"));
  const batches = copyBatches(copy.iterator({ destroyOnReturn: false }), dir, options.batchRows ?? DEFAULT_BATCH_ROWS);
  try {
    // The next batch is read from PostgreSQL while this one lands in DuckDB.
    let next = batches.next();
    next.catch(() => undefined);
    for (;;) {
      const { value: batch, done } = await next;
      if (done) break;
      next = batches.next();
      next.catch(() => undefined);
      const fields = batch.lastRow.split("\t");
      const [cursor, ...key] = plan.markColumns.map((i) => decodeCopyText(fields[i]!));
      mark = { column: table.cursor, cursor: cursor!, key, batch: (mark?.batch ?? 0) + 1 };
      const result = await landBatch(db, raw, plan, batch, `${table.name}@${JSON.stringify(mark)}`, `${shown} ${table.name}`, loadId);
      await rm(batch.path);
      results.push({ ...result, table: raw });
      progress.files++;
      progress.rows += result.rowsLanded;
      options.onProgress?.(progress);
    }
  } finally {
    await batches.return(undefined).catch(() => undefined);
    // A COPY given up half way (a batch failed to land) is read to its end, so that the
    // connection can serve the next table.
    if (!copy.readableEnded && !copy.errored) {
      copy.resume();
      await finished(copy).catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Lands one batch file in one transaction with its ledger row: DuckDB reads the file and writes
 * each row's payload (payload.ts), then the count it inserted must be the rows Node counted.
 * Rows come typed from PostgreSQL, so none can fail to be a JSON object: there is no quarantine.
 */
async function landBatch(
  db: Database,
  raw: string,
  plan: CopyPlan,
  batch: CopyBatch,
  fileName: string,
  path: string,
  loadId: string,
): Promise<LandResult> {
  return db.withConnection((connection) =>
    inTransaction(connection, async () => {
      const result: LandResult = { fileName, path, status: "landed", rowsLanded: 0, rowsQuarantined: 0 };
      const decision = await applyDecision(connection, raw, fileName, batch.sha256, false);
      if (decision.status === "refused") Object.assign(result, { status: "refused", error: decision.error });
      else if (decision.status === "skipped") result.status = "skipped";
      else {
        const inserted = await connection.run(
          `insert into ${rawTable(raw)} (payload, _file, _line, _load_id, _loaded_at)
          select ${plan.payloadSql}, ${quoteLiteral(fileName)}, n, ${quoteLiteral(loadId)}, current_timestamp
          from ${batchRowsSql(plan, batch.path, batch.longestRow)}`,
        );
        if (inserted.rowsChanged !== batch.rows) {
          throw new Error(`${fileName}: DuckDB read ${inserted.rowsChanged} rows of the ${batch.rows} PostgreSQL sent`);
        }
        result.rowsLanded = batch.rows - ((await sweepLanded(connection, raw, loadId, fileName)).get(fileName) ?? 0);
      }
      await writeLedger(connection, raw, loadId, [
        { ...result, sha256: batch.sha256, bytes: batch.bytes, lines: batch.rows, blankLines: 0 },
      ]);
      return result;
    }),
  );
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

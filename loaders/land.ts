import type { DuckDBAppender, DuckDBConnection } from "@duckdb/node-api";
import type { Database } from "../runner/database.ts";
import { inTransaction } from "../runner/transaction.ts";
import { quoteIdent, quoteLiteral } from "../runner/quote.ts";
import {
  RAW_SCHEMA,
  applyDecision,
  ensureLandingTables,
  landedContent,
  landedHashes,
  newLoadId,
  rawTable,
  writeLedger,
  type LedgerEntry,
  type LedgerRule,
  type LedgerStatus,
} from "./ledger.ts";
import { lineVerdictSql, payloadSql } from "./verdict.ts";
import { sweepLanded } from "../privacy/forgotten.ts";

/** One record of a source file: `json` is one JSON object's text; or `raw` + `error` for the quarantine. */
export interface SourceRecord {
  line: number;
  json?: string;
  raw?: string;
  error?: string;
}

/** A parsed source file; `fileName` is its identity in the ledger (stable across loads). */
export interface SourceDocument {
  path: string;
  fileName: string;
  sha256: string;
  bytes: number;
  lines: number;
  blankLines?: number;
  records: SourceRecord[];
  /** Set when the file itself could not be read: it is recorded as failed, and a rerun tries it again. */
  failure?: string;
}

export interface LandResult {
  fileName: string;
  path: string;
  status: LedgerStatus;
  rowsLanded: number;
  rowsQuarantined: number;
  error?: string;
}

const STAGE = "duckform_land_stage";

/**
 * Lands a batch of parsed documents into `raw.<table>`, their bad records into `raw.quarantine`
 * and one ledger row each into `raw.load_ledger`, all in one transaction. Records are staged
 * with an appender and moved with set-based SQL, which also re-checks that each `json` is
 * exactly one JSON object: a record that is not goes to the quarantine, never into the table.
 * The ledger decides each document by `rule` (ledger.ts, LedgerRule): by name, where a refused
 * document (same name, other content, no `replace`) is reported, not thrown, so it does not hold
 * back the rest of the batch; or by content, within `scope` when given.
 */
export async function landDocuments(
  db: Database,
  table: string,
  docs: SourceDocument[],
  options: { replace?: boolean; loadId?: string; rule?: LedgerRule; scope?: string } = {},
): Promise<LandResult[]> {
  const target = rawTable(table);
  const loadId = options.loadId ?? newLoadId();
  const rule = options.rule ?? "name";
  return db.withConnection(async (connection) => {
    await ensureLandingTables(connection, table);
    return inTransaction(connection, async () => {
      const decide =
        rule === "content" ? await byContent(connection, table, options.scope) : await byName(connection, table, options.replace ?? false);
      return landInTransaction(connection, table, target, docs, loadId, decide);
    });
  });
}

/**
 * Decides one document; a document it lets land counts as landed for the rest of the batch. A
 * `name` is the one the document lands under when it is not its own.
 */
type Decide = (doc: SourceDocument) => Promise<{ status: LandResult["status"]; name?: string } | { refused: string }>;

async function byName(connection: DuckDBConnection, table: string, replace: boolean): Promise<Decide> {
  const landed = await landedContent(connection, table);
  // Names this batch lands, so that a second copy in the same batch is judged against the first.
  const inBatch = new Map<string, string>();
  return async (doc) => {
    const earlier = inBatch.get(doc.fileName);
    if (earlier !== undefined)
      return earlier === doc.sha256
        ? { status: "skipped" }
        : { refused: `${doc.fileName} appears twice in this load with different content` };
    const decision = await applyDecision(connection, table, doc.fileName, doc.sha256, replace, landed);
    if (decision.status === "refused") return { refused: decision.error };
    if (decision.status !== "skipped") inBatch.set(doc.fileName, doc.sha256);
    return { status: decision.status };
  };
}

/**
 * The content rule. A new version of a name already landed (a re-export into the same folder,
 * another account's `chats/chat_1/messages.html`) lands as `<name>~2`, `~3`, …, so that a row's
 * (`_file`, `_line`) stays unique and names which version it came from.
 */
async function byContent(connection: DuckDBConnection, table: string, scope: string | undefined): Promise<Decide> {
  const { hashes, versions } = await landedHashes(connection, table, scope);
  return async (doc) => {
    if (hashes.has(doc.sha256)) return { status: "skipped" };
    hashes.add(doc.sha256);
    const version = (versions.get(doc.fileName) ?? 0) + 1;
    versions.set(doc.fileName, version);
    return { status: "landed", name: version === 1 ? undefined : `${doc.fileName}~${version}` };
  };
}

async function landInTransaction(
  connection: DuckDBConnection,
  table: string,
  target: string,
  docs: SourceDocument[],
  loadId: string,
  decide: Decide,
): Promise<LandResult[]> {
  const results: LandResult[] = [];
  const toLand: SourceDocument[] = [];
  // Each document under the name it lands with, by position.
  const landing = [...docs];
  for (const doc of docs) {
    const base = { fileName: doc.fileName, path: doc.path, rowsLanded: 0, rowsQuarantined: 0 };
    if (doc.failure !== undefined) {
      results.push({ ...base, status: "failed", error: doc.failure });
      continue;
    }
    const decision = await decide(doc);
    if ("refused" in decision) {
      results.push({ ...base, status: "refused", error: decision.refused });
      continue;
    }
    const named = decision.name === undefined ? doc : { ...doc, fileName: decision.name };
    landing[results.length] = named;
    if (decision.status === "landed" || decision.status === "replaced") toLand.push(named);
    results.push({ ...base, fileName: named.fileName, status: decision.status });
  }

  const counts = toLand.length > 0 ? await stageAndMove(connection, table, target, toLand, loadId) : new Map();
  // A forgotten person's rows leave before the ledger counts them (privacy/forgotten.ts).
  const forgotten = toLand.length > 0 ? await sweepLanded(connection, table, loadId) : new Map<string, number>();
  const entries: LedgerEntry[] = [];
  for (const [i, result] of results.entries()) {
    const doc = landing[i]!;
    if (result.status === "landed" || result.status === "replaced") {
      const count = counts.get(doc.fileName) ?? { landed: 0, quarantined: 0 };
      if (count.landed + count.quarantined !== doc.records.length) {
        throw new Error(`landing ${doc.fileName} moved ${count.landed} + ${count.quarantined} rows for ${doc.records.length} records`);
      }
      result.rowsLanded = count.landed - (forgotten.get(doc.fileName) ?? 0);
      result.rowsQuarantined = count.quarantined;
    }
    entries.push({
      fileName: doc.fileName,
      path: doc.path,
      sha256: doc.sha256,
      bytes: doc.bytes,
      lines: doc.lines,
      rowsLanded: result.rowsLanded,
      rowsQuarantined: result.rowsQuarantined,
      blankLines: doc.blankLines ?? 0,
      status: result.status,
      error: result.error,
    });
  }
  await writeLedger(connection, table, loadId, entries);
  return results;
}

/** Appends every record to a temporary stage, then moves it into the table or the quarantine. */
async function stageAndMove(
  connection: DuckDBConnection,
  table: string,
  target: string,
  docs: SourceDocument[],
  loadId: string,
): Promise<Map<string, { landed: number; quarantined: number }>> {
  const stage = quoteIdent(STAGE);
  await connection.run(`
    create or replace temp table ${stage} (
      _file varchar, _line bigint, json varchar, raw_line varchar, error varchar, verdict varchar
    )
  `);
  try {
    const appender = await connection.createAppender(STAGE, null, "temp");
    try {
      for (const doc of docs) {
        for (const record of doc.records) appendRecord(appender, doc.fileName, record);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    // The verdict is the record's own error, or what is wrong with its JSON in the words the
    // NDJSON loader uses for a line; blank JSON text is no JSON at all.
    await connection.run(`
      update ${stage} set verdict = case
        when error is not null then error
        when json is null then 'no JSON and no error given'
        else ${lineVerdictSql("json")}
      end;
      update ${stage} set verdict = 'no JSON and no error given' where verdict = 'blank'
    `);
    const load = quoteLiteral(loadId);
    await connection.run(`
      insert into ${target} (payload, _file, _line, _load_id, _loaded_at)
      select ${payloadSql("json")}, _file, _line, ${load}, current_timestamp from ${stage} where verdict is null
    `);
    await connection.run(`
      insert into ${quoteIdent(RAW_SCHEMA)}.quarantine
      select ${quoteLiteral(table)}, _file, _line, coalesce(raw_line, json), verdict, ${load}, current_timestamp
      from ${stage} where verdict is not null
    `);
    const reader = await connection.runAndReadAll(`
      select _file, count(*) filter (verdict is null), count(*) filter (verdict is not null)
      from ${stage} group by _file
    `);
    const counts = new Map<string, { landed: number; quarantined: number }>();
    for (const [file, landed, quarantined] of reader.getRows()) {
      counts.set(String(file), { landed: Number(landed), quarantined: Number(quarantined) });
    }
    return counts;
  } finally {
    await connection.run(`drop table if exists ${stage}`);
  }
}

function appendRecord(appender: DuckDBAppender, fileName: string, record: SourceRecord): void {
  appender.appendVarchar(fileName);
  appender.appendBigInt(BigInt(record.line));
  appendText(appender, record.json);
  appendText(appender, record.raw);
  appendText(appender, record.error);
  appender.appendNull();
  appender.endRow();
}

function appendText(appender: DuckDBAppender, value: string | undefined): void {
  if (value === undefined) appender.appendNull();
  else appender.appendVarchar(value);
}

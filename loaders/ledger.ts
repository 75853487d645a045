import { randomUUID } from "node:crypto";
import type { DuckDBConnection } from "@duckdb/node-api";
import { UserError } from "../runner/errors.ts";
import { quoteIdent, quoteLiteral, quoteQualified } from "../runner/quote.ts";
import { recordSourceChange } from "../runner/sourceChanges.ts";

/** The schema every loader lands into. */
export const RAW_SCHEMA = "raw";

/** Tables of the raw schema that belong to the landing machinery, not to a source. */
const RESERVED = new Set(["quarantine", "load_ledger"]);

/**
 * What happened to one file: landed, skipped (same content as before), replaced, refused
 * (other content, no `--replace`), or failed (it could not be read or landed: a corrupt
 * gzip, an unreadable file, a DuckDB error), with the reason in `error`. Only landed and
 * replaced rows count as content, so a rerun retries the failed files and skips the rest.
 */
export type LedgerStatus = "landed" | "skipped" | "replaced" | "refused" | "failed";

/** What the ledger says to do with one incoming file. */
export type LedgerDecision =
  { status: "landed" } | { status: "replaced"; previousSha256: string } | { status: "skipped" } | { status: "refused"; error: string };

/** A fresh id for one `load` invocation, shared by every row it writes. */
export function newLoadId(): string {
  return randomUUID();
}

/** `raw.<table>` as SQL, after checking that `table` is a name a user can type and query. */
export function rawTable(table: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) {
    throw new UserError(`--table must be a plain name (letters, digits, underscores), got "${table}"`);
  }
  if (RESERVED.has(table.toLowerCase())) {
    throw new UserError(`--table ${table} is reserved for the loaders' own bookkeeping; choose another name`);
  }
  return quoteQualified(RAW_SCHEMA, table);
}

/** Creates the raw schema, the source table, the quarantine and the ledger when missing. */
export async function ensureLandingTables(connection: DuckDBConnection, table: string): Promise<void> {
  const raw = quoteIdent(RAW_SCHEMA);
  await connection.run(`
    create schema if not exists ${raw};
    create table if not exists ${rawTable(table)} (
      payload json,
      _file varchar,
      _line bigint,
      _load_id varchar,
      _loaded_at timestamptz,
    );
    create table if not exists ${raw}.quarantine (
      source_table varchar,
      _file varchar,
      _line bigint,
      raw_line varchar,
      error varchar,
      _load_id varchar,
      _loaded_at timestamptz,
    );
    create table if not exists ${raw}.load_ledger (
      source_table varchar,
      file_name varchar,
      file_path varchar,
      sha256 varchar,
      bytes bigint,
      lines bigint,
      rows_landed bigint,
      rows_quarantined bigint,
      blank_lines bigint,
      _load_id varchar,
      status varchar,
      loaded_at timestamptz,
      error varchar,
    );
    -- Ledgers written before failed files were recorded have no error column.
    alter table ${raw}.load_ledger add column if not exists error varchar;
  `);
}

/**
 * The sha256 of the content currently landed for each file name of `table`: the latest
 * ledger row that landed or replaced it. Skipped and refused rows are history, not content.
 */
export async function landedContent(connection: DuckDBConnection, table: string): Promise<Map<string, string>> {
  const reader = await connection.runAndReadAll(`
    select file_name, arg_max(sha256, loaded_at) as sha256
    from ${quoteIdent(RAW_SCHEMA)}.load_ledger
    where source_table = ${quoteLiteral(table)} and status in ('landed', 'replaced')
    group by file_name
  `);
  const content = new Map<string, string>();
  for (const [fileName, sha256] of reader.getRows()) content.set(String(fileName), String(sha256));
  return content;
}

/**
 * How a source's files are known. `name` (NDJSON, seeds): a file is its name, so other content
 * under a landed name is refused unless `--replace`. `content` (chat exports): a file is its
 * bytes, so the same bytes under any path are skipped and anything else lands as a new version,
 * never refused and never deleting what another export landed; the records say which chat or
 * workspace they belong to, and the definitions keep the newest copy of each message.
 */
export type LedgerRule = "name" | "content";

/**
 * For the `content` rule: every sha256 landed into `table`, and how many versions of each name
 * (`name`, `name~2`, …) have landed. All names, or with `scope`, names that start with `<scope>/`
 * (a Slack workspace's, whose files do not name their workspace).
 */
export async function landedHashes(
  connection: DuckDBConnection,
  table: string,
  scope?: string,
): Promise<{ hashes: Set<string>; versions: Map<string, number> }> {
  const within = scope === undefined ? "" : `and starts_with(file_name, ${quoteLiteral(`${scope}/`)})`;
  const reader = await connection.runAndReadAll(`
    select sha256, regexp_replace(file_name, '~[0-9]+$', '') as name from ${quoteIdent(RAW_SCHEMA)}.load_ledger
    where source_table = ${quoteLiteral(table)} and status in ('landed', 'replaced') ${within}
  `);
  const hashes = new Set<string>();
  const versions = new Map<string, number>();
  for (const [sha256, name] of reader.getRows()) {
    hashes.add(String(sha256));
    versions.set(String(name), (versions.get(String(name)) ?? 0) + 1);
  }
  return { hashes, versions };
}

/** The ledger rule for one file: same content → skip; other content → refuse unless replacing. */
export function decide(
  table: string,
  fileName: string,
  sha256: string,
  landed: ReadonlyMap<string, string>,
  replace: boolean,
): LedgerDecision {
  const previous = landed.get(fileName);
  if (previous === undefined) return { status: "landed" };
  if (previous === sha256) return { status: "skipped" };
  if (replace) return { status: "replaced", previousSha256: previous };
  return {
    status: "refused",
    error:
      `${fileName} was already landed into raw.${table} with different content ` +
      `(sha256 ${previous.slice(0, 12)}…, now ${sha256.slice(0, 12)}…); pass --replace to replace its rows`,
  };
}

/**
 * The ledger step every loader takes for a file inside its transaction: decide, and for a
 * replacement delete the rows the file landed before, so that its new rows take their place.
 */
export async function applyDecision(
  connection: DuckDBConnection,
  table: string,
  fileName: string,
  sha256: string,
  replace: boolean,
  landed?: ReadonlyMap<string, string>,
): Promise<LedgerDecision> {
  const decision = decide(table, fileName, sha256, landed ?? (await landedContent(connection, table)), replace);
  if (decision.status === "replaced") await deleteFileRows(connection, table, fileName);
  return decision;
}

/**
 * Deletes a file's rows from the source table and the quarantine, for `--replace`, and records
 * the change so that the next run rebuilds the incremental tables downstream of the table.
 */
export async function deleteFileRows(connection: DuckDBConnection, table: string, fileName: string): Promise<void> {
  const file = quoteLiteral(fileName);
  await connection.run(`delete from ${rawTable(table)} where _file = ${file}`);
  await connection.run(`delete from ${quoteIdent(RAW_SCHEMA)}.quarantine where source_table = ${quoteLiteral(table)} and _file = ${file}`);
  await recordSourceChange(connection, `${RAW_SCHEMA}.${table}`, `${fileName} replaced`);
}

/** One row of the ledger, as the loaders report it. */
export interface LedgerEntry {
  fileName: string;
  path: string;
  sha256: string;
  bytes: number;
  lines: number;
  rowsLanded: number;
  rowsQuarantined: number;
  blankLines: number;
  status: LedgerStatus;
  error?: string;
}

const LEDGER_STAGE = "duckform_ledger_stage";

/**
 * Appends ledger rows; `loaded_at` is the transaction's start, like the rows'. They go through an
 * appender and a temporary stage rather than one `values` list: DuckDB took ~0.17 s to parse and
 * bind a list of 1,000 ledger rows, the appender and an `insert … select` ~0.015 s.
 */
export async function writeLedger(
  connection: DuckDBConnection,
  table: string,
  loadId: string,
  entries: readonly LedgerEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  const stage = quoteIdent(LEDGER_STAGE);
  await connection.run(`
    create or replace temp table ${stage} (
      file_name varchar, file_path varchar, sha256 varchar, bytes bigint, lines bigint,
      rows_landed bigint, rows_quarantined bigint, blank_lines bigint, status varchar, error varchar
    )
  `);
  try {
    const appender = await connection.createAppender(LEDGER_STAGE, null, "temp");
    try {
      for (const e of entries) {
        appender.appendVarchar(e.fileName);
        appender.appendVarchar(e.path);
        appender.appendVarchar(e.sha256);
        for (const n of [e.bytes, e.lines, e.rowsLanded, e.rowsQuarantined, e.blankLines]) appender.appendBigInt(BigInt(n));
        appender.appendVarchar(e.status);
        if (e.error === undefined) appender.appendNull();
        else appender.appendVarchar(e.error);
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    await connection.run(
      `insert into ${quoteIdent(RAW_SCHEMA)}.load_ledger (source_table, file_name, file_path, sha256, bytes, lines,
        rows_landed, rows_quarantined, blank_lines, _load_id, status, loaded_at, error)
      select ${quoteLiteral(table)}, file_name, file_path, sha256, bytes, lines,
        rows_landed, rows_quarantined, blank_lines, ${quoteLiteral(loadId)}, status, current_timestamp, error
      from ${stage}`,
    );
  } finally {
    await connection.run(`drop table if exists ${stage}`);
  }
}

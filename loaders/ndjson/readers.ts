import { open } from "node:fs/promises";
import type { DuckDBConnection } from "@duckdb/node-api";
import { quoteIdent, quoteLiteral } from "../../runner/quote.ts";
import { RAW_SCHEMA, rawTable } from "../ledger.ts";
import { readLines } from "./lines.ts";
import { LINE_DELIMITER, type FileScan } from "./scan.ts";
import { lineVerdictSql, payloadSql } from "../verdict.ts";

/**
 * The two ways lines of an NDJSON file reach DuckDB inside the file's transaction: DuckDB's
 * CSV reader splitting the file itself, or Node splitting it and staging batches. Both judge
 * lines with the same SQL and end with the same accounting check.
 */

/** One file to load and the name the ledger knows it by. */
export interface NdjsonFile {
  path: string;
  fileName: string;
  bytes: number;
}

/** What a reader needs to know about the load. */
export interface ReaderOptions {
  table: string;
  loadId: string;
  maxLineBytes: number;
}

/** Lines Node stages at a time on the exact path, and the bytes they may hold: memory follows the batch. */
const STREAM_BATCH = 20_000;
const STREAM_BATCH_BYTES = 16 * 1024 * 1024;

export interface Counts {
  landed: number;
  quarantined: number;
}

/** Moves the judged lines of `sourceSql` (columns n, line, pre_error) into the table or the quarantine. */
export function moveSql(which: "table" | "quarantine", sourceSql: string, file: NdjsonFile, options: ReaderOptions): string {
  const judged = `(
    select n, line, case when pre_error is not null then pre_error else ${lineVerdictSql("line")} end as verdict
    from ${sourceSql}
  )`;
  const name = quoteLiteral(file.fileName);
  const load = quoteLiteral(options.loadId);
  if (which === "table") {
    return `insert into ${rawTable(options.table)} (payload, _file, _line, _load_id, _loaded_at)
      select ${payloadSql("line")}, ${name}, n, ${load}, current_timestamp from ${judged} where verdict is null`;
  }
  return `insert into ${quoteIdent(RAW_SCHEMA)}.quarantine
    select ${quoteLiteral(options.table)}, ${name}, n, line, verdict, ${load}, current_timestamp
    from ${judged} where verdict <> 'blank'`;
}

/** DuckDB's own limit on a CSV line, used when the longest line is not known yet. */
export const DEFAULT_MAX_LINE = 2 * 1024 * 1024;

/**
 * Every physical line of a file as one value, numbered: DuckDB's CSV reader told that a
 * field never ends before the line does (a delimiter the scan found absent, no quoting).
 * CRLF mode also ends lines at a bare LF. The parallel reader refuses some mixed files in
 * that mode, which then take Node's exact path: the single-threaded reader would accept them
 * but held 1.4 GB for a 760 MB CRLF file, against 570 MB in parallel.
 */
export function csvLinesSql(path: string, crlf: boolean, maxLineSize: number): string {
  return `(select ordinality as n, line, null::varchar as pre_error from read_csv(${quoteLiteral(path)},
    columns = {'line': 'VARCHAR'}, delim = ${quoteLiteral(LINE_DELIMITER)}, quote = '', escape = '',
    header = false, auto_detect = false, strict_mode = false,
    new_line = ${quoteLiteral(crlf ? "\\r\\n" : "\\n")},
    max_line_size = ${maxLineSize}, buffer_size = ${csvBufferSize(maxLineSize)}) with ordinality)`;
}

/**
 * DuckDB's CSV buffers default to 16 × the line size, and each thread holds some: 400 MB
 * buffers for one 24 MB line made the load run out of memory under a 512 MB limit. Two lines'
 * worth is all a buffer needs; below the default line size, DuckDB's own 32 MB stay.
 */
function csvBufferSize(maxLineSize: number): number {
  return Math.max(16 * DEFAULT_MAX_LINE, 2 * maxLineSize);
}

/** Whether the file's first 64 KB hold a CRLF (the reader's line-ending mode is chosen from it). */
export async function startsWithCrLf(path: string): Promise<boolean> {
  const handle = await open(path, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, 0);
    return buffer.subarray(0, bytesRead).includes("\r\n");
  } finally {
    await handle.close();
  }
}

/**
 * The fast path: valid lines go from DuckDB's CSV reader straight into the table; lines
 * that fail go to the quarantine in a second pass, run only when the counts say there are any.
 */
export async function landByCsv(connection: DuckDBConnection, file: NdjsonFile, scan: FileScan, options: ReaderOptions): Promise<Counts> {
  const maxLineSize = Math.max(DEFAULT_MAX_LINE, scan.longestLine + 1024);
  const landed = (await connection.run(moveSql("table", csvLinesSql(file.path, scan.hasCrLf, maxLineSize), file, options))).rowsChanged;
  const quarantined = await quarantineFromCsv(connection, file, scan, options, scan.hasCrLf, landed);
  return { landed, quarantined };
}

/** The quarantine pass of the fast path, then the accounting check; returns the lines quarantined. */
export async function quarantineFromCsv(
  connection: DuckDBConnection,
  file: NdjsonFile,
  scan: FileScan,
  options: ReaderOptions,
  crlf: boolean,
  landed: number,
): Promise<number> {
  const expectedBad = scan.lines - scan.blankLines - landed;
  if (expectedBad < 0) {
    throw new Error(`${file.fileName}: DuckDB landed ${landed} rows but the file has ${scan.lines - scan.blankLines} non-blank lines`);
  }
  const maxLineSize = Math.max(DEFAULT_MAX_LINE, scan.longestLine + 1024);
  const quarantined =
    expectedBad > 0
      ? (await connection.run(moveSql("quarantine", csvLinesSql(file.path, crlf, maxLineSize), file, options))).rowsChanged
      : 0;
  await checkCounts(connection, file, scan, options, { landed, quarantined }, scan.blankLines);
  return quarantined;
}

/**
 * The exact path, for files the CSV reader would split wrongly (a lone CR, invalid UTF-8):
 * Node splits lines on LF and stages them in batches; the same SQL judges and moves them.
 */
export async function landByStream(
  connection: DuckDBConnection,
  file: NdjsonFile,
  scan: FileScan,
  options: ReaderOptions,
): Promise<Counts> {
  const stageName = "duckform_ndjson_stage";
  const stage = quoteIdent(stageName);
  // Created inside the file's transaction: a rollback drops it too, so no cleanup can mask an error.
  await connection.run(`create or replace temp table ${stage} (n bigint, line varchar, pre_error varchar)`);
  const counts = { landed: 0, quarantined: 0 };
  let blank = 0;
  let lines = 0;
  for await (const batch of readLines(file.path, { lines: STREAM_BATCH, bytes: STREAM_BATCH_BYTES, maxLineBytes: options.maxLineBytes })) {
    const appender = await connection.createAppender(stageName, null, "temp");
    try {
      for (const line of batch) {
        appender.appendBigInt(BigInt(line.n));
        appender.appendVarchar(line.text);
        if (line.error === undefined) appender.appendNull();
        else appender.appendVarchar(line.error);
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    lines = batch[batch.length - 1].n;
    const source = `(select n, line, pre_error from ${stage})`;
    counts.landed += (await connection.run(moveSql("table", source, file, options))).rowsChanged;
    counts.quarantined += (await connection.run(moveSql("quarantine", source, file, options))).rowsChanged;
    const reader = await connection.runAndReadAll(
      `select count(*) from ${stage} where pre_error is null and ${lineVerdictSql("line")} = 'blank'`,
    );
    blank += Number(reader.getRows()[0][0]);
    await connection.run(`delete from ${stage}`);
  }
  await connection.run(`drop table ${stage}`);
  if (lines !== scan.lines) {
    throw new Error(`${file.fileName}: read ${lines} lines but the scan counted ${scan.lines}; the file changed while loading?`);
  }
  await checkCounts(connection, file, scan, options, counts, blank);
  return counts;
}

/**
 * Nothing is dropped: landed + quarantined + blank must equal the lines Node counted, with
 * DuckDB's blank count equal to Node's, and the highest line number landed or quarantined
 * must be the last non-blank line — a reader that merged or split lines would shift it.
 */
async function checkCounts(
  connection: DuckDBConnection,
  file: NdjsonFile,
  scan: FileScan,
  options: ReaderOptions,
  counts: Counts,
  blank: number,
): Promise<void> {
  const problems: string[] = [];
  if (counts.landed + counts.quarantined + blank !== scan.lines) {
    problems.push(`${counts.landed} landed + ${counts.quarantined} quarantined + ${blank} blank ≠ ${scan.lines} lines`);
  }
  if (blank !== scan.blankLines) problems.push(`DuckDB saw ${blank} blank lines, Node ${scan.blankLines}`);
  const filter = `_file = ${quoteLiteral(file.fileName)} and _load_id = ${quoteLiteral(options.loadId)}`;
  const reader = await connection.runAndReadAll(`select greatest(
    (select coalesce(max(_line), 0) from ${rawTable(options.table)} where ${filter}),
    (select coalesce(max(_line), 0) from ${quoteIdent(RAW_SCHEMA)}.quarantine
      where source_table = ${quoteLiteral(options.table)} and ${filter}))`);
  const lastLine = Number(reader.getRows()[0][0]);
  if (lastLine !== scan.lastNonBlankLine) {
    problems.push(`the last line landed is ${lastLine}, the last non-blank line ${scan.lastNonBlankLine}`);
  }
  if (problems.length > 0) {
    throw new Error(`${file.fileName}: line accounting failed, nothing landed from it: ${problems.join("; ")}`);
  }
}

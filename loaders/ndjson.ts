import { readdirSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { basename, join, relative, resolve, sep } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { Database } from "../runner/database.ts";
import { UserError } from "../runner/errors.ts";
import { quoteIdent, quoteLiteral } from "../runner/quote.ts";
import type { LandResult } from "./land.ts";
import {
  RAW_SCHEMA,
  decide,
  deleteFileRows,
  ensureLandingTables,
  landedContent,
  newLoadId,
  rawTable,
  writeLedger,
} from "./ledger.ts";
import { readLines } from "./lines.ts";
import { LINE_DELIMITER, isGzip, scanFile, type FileScan } from "./scan.ts";
import { lineVerdictSql, payloadSql } from "./verdict.ts";

export interface NdjsonOptions {
  table: string;
  replace?: boolean;
  loadId?: string;
  /**
   * How lines reach DuckDB: "auto" lets DuckDB's CSV reader split the file when the scan
   * shows it can do so exactly, else streams lines from Node; "stream" always streams.
   */
  reader?: "auto" | "stream";
  onProgress?: (event: NdjsonProgress) => void;
}

/** Progress of a load, for a progress bar: files and bytes done so far, rows landed so far. */
export interface NdjsonProgress {
  files: number;
  totalFiles: number;
  bytes: number;
  totalBytes: number;
  rows: number;
  file?: string;
}

export interface NdjsonResult extends LandResult {
  lines: number;
  blankLines: number;
  bytes: number;
}

/** One file to load and the name the ledger knows it by. */
export interface NdjsonFile {
  path: string;
  fileName: string;
  bytes: number;
}

const EXTENSIONS = /\.(ndjson|jsonl|json)(\.gz)?$/i;
const STREAM_BATCH = 20_000;
/**
 * DuckDB's memory limit while loading. Rows inserted batch by batch (the exact path) stay in
 * the transaction's memory until commit unless DuckDB must spill them: 2M lines peaked at
 * 1.6 GB RSS without a limit and 557 MB with; the fast path peaks at about 400 MB, not 550.
 */
const LOAD_MEMORY_LIMIT = "128MB";

/**
 * The files behind `paths`: a file as given (named by its base name), a directory searched
 * recursively for .ndjson/.jsonl/.json(.gz) files (named by their path inside it, so that
 * `day1/events.ndjson` and `day2/events.ndjson` stay distinct in the ledger).
 */
export function listNdjsonFiles(paths: string[]): NdjsonFile[] {
  const files: NdjsonFile[] = [];
  for (const given of paths) {
    const path = resolve(given);
    let stats;
    try {
      stats = statSync(path);
    } catch {
      throw new UserError(`no such file or directory: ${given}`);
    }
    if (stats.isFile()) {
      files.push({ path, fileName: basename(path), bytes: stats.size });
      continue;
    }
    const found = readdirSync(path, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && EXTENSIONS.test(entry.name))
      .map((entry) => join(entry.parentPath, entry.name))
      .sort();
    if (found.length === 0) throw new UserError(`${given} holds no .ndjson, .jsonl or .json files`);
    for (const file of found) {
      files.push({ path: file, fileName: relative(path, file).split(sep).join("/"), bytes: statSync(file).size });
    }
  }
  return files;
}

/**
 * Lands NDJSON files into `raw.<table>`, one row per line holding exactly one JSON object,
 * every other non-blank line into `raw.quarantine` with the reason, and one ledger row per
 * file. Each file is one transaction. Valid lines go from DuckDB's reader to the table
 * without passing through JavaScript; Node only hashes and counts the file beforehand, and
 * the counts are checked against what DuckDB landed before the transaction commits.
 */
export async function loadNdjson(db: Database, paths: string[], options: NdjsonOptions): Promise<NdjsonResult[]> {
  rawTable(options.table);
  const files = listNdjsonFiles(paths);
  const loadId = options.loadId ?? newLoadId();
  const progress: NdjsonProgress = {
    files: 0,
    totalFiles: files.length,
    bytes: 0,
    totalBytes: files.reduce((sum, f) => sum + f.bytes, 0),
    rows: 0,
  };
  const results: NdjsonResult[] = [];
  await db.withConnection((connection) =>
    withMemoryLimit(connection, LOAD_MEMORY_LIMIT, async () => {
      await ensureLandingTables(connection, options.table);
      if (options.onProgress) await connection.run("set enable_progress_bar = true; set enable_progress_bar_print = false");
      for (const file of files) {
        const bytesBefore = progress.bytes;
        progress.file = file.fileName;
        // A file's share of the bar is half Node's scan, half DuckDB's insert; they may overlap.
        let scanned = 0;
        let inserted = 0;
        const report = () => {
          progress.bytes = bytesBefore + (scanned + inserted * file.bytes) / 2;
          options.onProgress?.(progress);
        };
        const watch = options.onProgress ? watchQueryProgress(connection, (fraction) => ((inserted = fraction), report())) : undefined;
        let result: NdjsonResult;
        try {
          result = await landNdjsonFile(connection, file, { ...options, loadId }, (bytes) => ((scanned = bytes), report()));
        } finally {
          watch?.stop();
        }
        results.push(result);
        progress.files++;
        progress.bytes = bytesBefore + file.bytes;
        progress.rows += result.rowsLanded;
        options.onProgress?.(progress);
      }
    }),
  );
  return results;
}

/**
 * Runs `work` with DuckDB's memory limit (an instance-wide setting) lowered to `limit`,
 * then puts the previous limit back.
 */
async function withMemoryLimit<T>(connection: DuckDBConnection, limit: string, work: () => Promise<T>): Promise<T> {
  const current = async () => String((await connection.runAndReadAll("select current_setting('memory_limit')")).getRows()[0][0]);
  const previous = await current();
  await connection.run(`set memory_limit = ${quoteLiteral(limit)}`);
  try {
    return await work();
  } finally {
    // The shown limit is rounded ("18.8 GiB"): reset to the default when that is what it was.
    await connection.run("reset memory_limit");
    if ((await current()) !== previous) await connection.run(`set memory_limit = ${quoteLiteral(previous)}`);
  }
}

type FileOptions = NdjsonOptions & { loadId: string };

/**
 * Polls DuckDB's progress for the statement running on `connection` (the insert of a big
 * file can take seconds with nothing else to report). The fraction only moves forward, as
 * a file may see a second statement after the first.
 */
function watchQueryProgress(connection: DuckDBConnection, onFraction: (fraction: number) => void): { stop(): void } {
  let best = 0;
  const timer = setInterval(() => {
    const percentage = connection.progress.percentage;
    if (percentage > best * 100) {
      best = Math.min(percentage / 100, 1);
      onFraction(best);
    }
  }, 200);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/**
 * Lands one file. A file whose name the ledger has not seen will land whatever its hash,
 * so DuckDB starts inserting while Node hashes and counts it (two cores busy, not one after
 * the other); if the scan then shows the guess about the file was wrong, the transaction is
 * rolled back and the file landed again the careful way. Known names are scanned first,
 * since their hash decides between skip, refuse and replace.
 */
async function landNdjsonFile(
  connection: DuckDBConnection,
  file: NdjsonFile,
  options: FileOptions,
  onBytes: (bytes: number) => void,
): Promise<NdjsonResult> {
  const optimistic =
    (options.reader ?? "auto") === "auto" &&
    !isGzip(file.path) &&
    !(await landedContent(connection, options.table)).has(file.fileName);
  if (!optimistic) return landFileWithFallback(connection, file, await scanFile(file.path, onBytes), options);

  const crlf = await startsWithCrLf(file.path);
  await connection.run("begin transaction");
  const inserting = connection
    .run(moveSql("table", csvLinesSql(file.path, crlf, DEFAULT_MAX_LINE), file, options))
    .then((result) => result.rowsChanged);
  const [inserted, scanned] = await Promise.allSettled([inserting, scanFile(file.path, onBytes)]);
  if (scanned.status === "rejected") {
    await connection.run("rollback").catch(() => undefined);
    throw scanned.reason;
  }
  const scan = scanned.value;
  // In LF mode DuckDB also breaks lines at CR, so a CRLF seen only past the peek voids the guess.
  const guessHeld = !scan.sqlBlocker && (crlf || !scan.hasCrLf) && scan.longestLine < DEFAULT_MAX_LINE;
  if (inserted.status === "fulfilled" && guessHeld) {
    try {
      const quarantined = await quarantineFromCsv(connection, file, scan, options, crlf, inserted.value);
      const result: NdjsonResult = {
        ...resultBase(file, scan),
        status: "landed",
        rowsLanded: inserted.value,
        rowsQuarantined: quarantined,
      };
      await writeLedger(connection, options.table, options.loadId, [{ ...result, sha256: scan.sha256 }]);
      await connection.run("commit");
      return result;
    } catch (error) {
      await connection.run("rollback").catch(() => undefined);
      if (error instanceof UserError) throw error;
      return landFileWithFallback(connection, file, scan, options);
    }
  }
  await connection.run("rollback").catch(() => undefined);
  return landFileWithFallback(connection, file, scan, options);
}

async function landFileWithFallback(
  connection: DuckDBConnection,
  file: NdjsonFile,
  scan: FileScan,
  options: FileOptions,
): Promise<NdjsonResult> {
  const useCsv = (options.reader ?? "auto") === "auto" && !scan.sqlBlocker;
  if (!useCsv) return landFile(connection, file, scan, options, "stream");
  try {
    return await landFile(connection, file, scan, options, "csv");
  } catch (error) {
    if (error instanceof UserError) throw error;
    // The CSV reader refused something the scan did not foresee; streaming is slower but exact.
    return landFile(connection, file, scan, options, "stream");
  }
}

interface Counts {
  landed: number;
  quarantined: number;
}

/** Lands one file in one transaction, or records why it was skipped or refused. */
async function landFile(
  connection: DuckDBConnection,
  file: NdjsonFile,
  scan: FileScan,
  options: FileOptions,
  reader: "csv" | "stream",
): Promise<NdjsonResult> {
  const { table, loadId } = options;
  const base = resultBase(file, scan);
  await connection.run("begin transaction");
  try {
    const decision = decide(table, file.fileName, scan.sha256, await landedContent(connection, table), options.replace ?? false);
    let result: NdjsonResult;
    if (decision.status === "skipped" || decision.status === "refused") {
      result = { ...base, status: decision.status, ...(decision.status === "refused" ? { error: decision.error } : {}) };
    } else {
      if (decision.status === "replaced") await deleteFileRows(connection, table, file.fileName);
      const counts =
        reader === "csv"
          ? await landByCsv(connection, file, scan, options)
          : await landByStream(connection, file, scan, options);
      result = { ...base, status: decision.status, rowsLanded: counts.landed, rowsQuarantined: counts.quarantined };
    }
    await writeLedger(connection, table, loadId, [{ ...result, sha256: scan.sha256 }]);
    await connection.run("commit");
    return result;
  } catch (error) {
    await connection.run("rollback").catch(() => undefined);
    throw error;
  }
}

/** Moves the judged lines of `sourceSql` (columns n, line, pre_error) into the table or the quarantine. */
function moveSql(which: "table" | "quarantine", sourceSql: string, file: NdjsonFile, options: FileOptions): string {
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

function resultBase(file: NdjsonFile, scan: FileScan) {
  return {
    fileName: file.fileName,
    path: file.path,
    rowsLanded: 0,
    rowsQuarantined: 0,
    lines: scan.lines,
    blankLines: scan.blankLines,
    bytes: scan.bytes,
  };
}

/** DuckDB's own limit on a CSV line, used when the longest line is not known yet. */
const DEFAULT_MAX_LINE = 2 * 1024 * 1024;

/**
 * Every physical line of a file as one value, numbered: DuckDB's CSV reader told that a
 * field never ends before the line does (a delimiter the scan found absent, no quoting).
 * CRLF mode also ends lines at a bare LF. The parallel reader refuses some mixed files in
 * that mode, which then take Node's exact path: the single-threaded reader would accept them
 * but held 1.4 GB for a 760 MB CRLF file, against 570 MB in parallel.
 */
function csvLinesSql(path: string, crlf: boolean, maxLineSize: number): string {
  return `(select ordinality as n, line, null::varchar as pre_error from read_csv(${quoteLiteral(path)},
    columns = {'line': 'VARCHAR'}, delim = ${quoteLiteral(LINE_DELIMITER)}, quote = '', escape = '',
    header = false, auto_detect = false, strict_mode = false,
    new_line = ${quoteLiteral(crlf ? "\\r\\n" : "\\n")},
    max_line_size = ${maxLineSize}) with ordinality)`;
}

/** Whether the file's first 64 KB hold a CRLF (the reader's line-ending mode is chosen from it). */
async function startsWithCrLf(path: string): Promise<boolean> {
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
async function landByCsv(
  connection: DuckDBConnection,
  file: NdjsonFile,
  scan: FileScan,
  options: FileOptions,
): Promise<Counts> {
  const maxLineSize = Math.max(DEFAULT_MAX_LINE, scan.longestLine + 1024);
  const landed = (await connection.run(moveSql("table", csvLinesSql(file.path, scan.hasCrLf, maxLineSize), file, options)))
    .rowsChanged;
  const quarantined = await quarantineFromCsv(connection, file, scan, options, scan.hasCrLf, landed);
  return { landed, quarantined };
}

/** The quarantine pass of the fast path, then the accounting check; returns the lines quarantined. */
async function quarantineFromCsv(
  connection: DuckDBConnection,
  file: NdjsonFile,
  scan: FileScan,
  options: FileOptions,
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
async function landByStream(
  connection: DuckDBConnection,
  file: NdjsonFile,
  scan: FileScan,
  options: FileOptions,
): Promise<Counts> {
  const stageName = "duckform_ndjson_stage";
  const stage = quoteIdent(stageName);
  await connection.run(`create or replace temp table ${stage} (n bigint, line varchar, pre_error varchar)`);
  const counts = { landed: 0, quarantined: 0 };
  let blank = 0;
  let lines = 0;
  try {
    for await (const batch of readLines(file.path, STREAM_BATCH)) {
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
  } finally {
    await connection.run(`drop table if exists ${stage}`);
  }
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
  options: FileOptions,
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


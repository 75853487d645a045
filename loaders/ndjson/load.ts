import { readdirSync, statSync } from "node:fs";
import { basename, join, relative, resolve, sep } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { Database } from "../../runner/database.ts";
import { UserError, messageOf } from "../../runner/errors.ts";
import { inTransaction } from "../../runner/transaction.ts";
import { sweepLanded } from "../../privacy/forgotten.ts";
import type { LandResult } from "../land.ts";
import type { LoadProgress } from "../progress.ts";
import { applyDecision, ensureLandingTables, landedContent, newLoadId, rawTable, writeLedger } from "../ledger.ts";
import {
  endLoadMemory,
  isOutOfMemory,
  releaseMemory,
  setLoadMemory,
  withMemoryFallback,
  withMemoryFor,
  type LoadMemory,
} from "./memory.ts";
import {
  DEFAULT_MAX_LINE,
  csvLinesSql,
  landByCsv,
  landByStream,
  moveSql,
  quarantineFromCsv,
  startsWithCrLf,
  type NdjsonFile,
  type ReaderOptions,
} from "./readers.ts";
import { isGzip, scanFile, type FileScan } from "./scan.ts";

export interface NdjsonOptions {
  table: string;
  replace?: boolean;
  loadId?: string;
  /**
   * How lines reach DuckDB: "auto" lets DuckDB's CSV reader split the file when the scan
   * shows it can do so exactly, else streams lines from Node; "stream" always streams.
   */
  reader?: "auto" | "stream";
  /**
   * DuckDB's memory limit for the load (`4GB`), left in force after it. By default files land
   * under WORKING_MEMORY_LIMIT, a file that runs out of it under DuckDB's share of RAM.
   */
  memoryLimit?: string;
  /** A longer line is quarantined with its size instead of landing (default `MAX_LINE_BYTES`). */
  maxLineBytes?: number;
  onProgress?: (progress: LoadProgress) => void;
}

export interface NdjsonResult extends LandResult {
  lines: number;
  blankLines: number;
  bytes: number;
}

const EXTENSIONS = /\.(ndjson|jsonl|json)(\.gz)?$/i;

/**
 * The longest line that lands. Node cannot hold a string of more than about 512 MB, and a
 * longer JSON event is a broken export, not data; such a line goes to the quarantine with
 * its size and its first bytes, and the rest of its file lands.
 */
export const MAX_LINE_BYTES = 256 * 1024 * 1024;

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
 * A file that cannot land (a corrupt gzip, an unreadable file, a DuckDB error) is rolled
 * back and recorded as failed with its reason; the files after it still land.
 */
export async function loadNdjson(db: Database, paths: string[], options: NdjsonOptions): Promise<NdjsonResult[]> {
  rawTable(options.table);
  const files = listNdjsonFiles(paths);
  const fileOptions = { ...options, loadId: options.loadId ?? newLoadId(), maxLineBytes: options.maxLineBytes ?? MAX_LINE_BYTES };
  const progress: LoadProgress = {
    files: 0,
    totalFiles: files.length,
    bytes: 0,
    totalBytes: files.reduce((sum, f) => sum + f.bytes, 0),
    rows: 0,
  };
  const results: NdjsonResult[] = [];
  await db.withConnection(async (connection) => {
    await ensureLandingTables(connection, options.table);
    const memory = await setLoadMemory(connection, options.memoryLimit);
    if (options.onProgress) await connection.run("set enable_progress_bar = true; set enable_progress_bar_print = false");
    try {
      for (const file of files) {
        results.push(await landReporting(connection, file, fileOptions, memory, progress));
        // Before the next file, and before the checkpoint: holding a file's buffers through the
        // final checkpoint took the 430 MB directory from 440 to 590 MB.
        await releaseMemory(connection, memory.limit);
      }
    } finally {
      await endLoadMemory(connection, memory);
    }
  });
  return results;
}

/**
 * Lands one file of a load and reports its progress: again under DuckDB's share if it ran out
 * of memory under the working limit, recorded as failed if it still cannot land.
 */
async function landReporting(
  connection: DuckDBConnection,
  file: NdjsonFile,
  options: NdjsonOptions & ReaderOptions,
  memory: LoadMemory,
  progress: LoadProgress,
): Promise<NdjsonResult> {
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
    result = await withMemoryFallback(connection, memory, (memoryLimit) =>
      landNdjsonFile(connection, file, { ...options, memoryLimit }, (bytes) => ((scanned = bytes), report())),
    );
  } catch (error) {
    result = await recordFailure(connection, file, options, error);
  } finally {
    watch?.stop();
  }
  progress.files++;
  progress.bytes = bytesBefore + file.bytes;
  progress.rows += result.rowsLanded;
  options.onProgress?.(progress);
  return result;
}

/** A file's options, with the memory limit it lands under (see setLoadMemory). */
type FileOptions = NdjsonOptions & ReaderOptions & { memoryLimit: string };

/**
 * Writes the ledger row of a file that could not land, with the first error's message:
 * its own transaction was rolled back, so the rows it had inserted are gone with it.
 */
async function recordFailure(
  connection: DuckDBConnection,
  file: NdjsonFile,
  options: ReaderOptions,
  error: unknown,
): Promise<NdjsonResult> {
  const result: NdjsonResult = {
    fileName: file.fileName,
    path: file.path,
    status: "failed",
    rowsLanded: 0,
    rowsQuarantined: 0,
    lines: 0,
    blankLines: 0,
    bytes: file.bytes,
    error: `${file.path}: ${describeFailure(error)}`,
  };
  await writeLedger(connection, options.table, options.loadId, [{ ...result, sha256: "", error: result.error }]);
  return result;
}

/**
 * One line on what went wrong: zlib's codes in words, and DuckDB's first line without the
 * tuning advice that follows it (the one knob a load has is --memory-limit).
 */
function describeFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === "string" && code.startsWith("Z_")) return `not a readable gzip file (${messageOf(error)})`;
  const first = messageOf(error).split("\n")[0];
  return isOutOfMemory(error) ? `${first}; give the load more memory with --memory-limit` : first;
}

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

/** Thrown inside the optimistic transaction when the scan shows its guess about the file was wrong. */
class GuessVoided extends Error {
  constructor(readonly scan: FileScan) {
    super("the scan voided the reader's guess");
  }
}

/**
 * Lands one file. A file whose name the ledger has not seen will land whatever its hash,
 * so DuckDB starts inserting while Node hashes and counts it (two cores busy, not one after
 * the other). The insert guesses that the file has LF or CRLF endings as its first 64 KB
 * show and no line over DuckDB's default line size; if the scan shows the guess was wrong,
 * the transaction is rolled back and the file landed with what the scan found. Any other
 * error fails the file. Known names are scanned first, since their hash decides between
 * skip, refuse and replace.
 */
async function landNdjsonFile(
  connection: DuckDBConnection,
  file: NdjsonFile,
  options: FileOptions,
  onBytes: (bytes: number) => void,
): Promise<NdjsonResult> {
  const optimistic =
    (options.reader ?? "auto") === "auto" && !isGzip(file.path) && !(await landedContent(connection, options.table)).has(file.fileName);
  if (!optimistic) {
    const scan = await scanFile(file.path, onBytes, options.maxLineBytes);
    return landFile(connection, file, scan, options);
  }
  const crlf = await startsWithCrLf(file.path);
  try {
    return await inTransaction(connection, async () => {
      const inserting = connection
        .run(moveSql("table", csvLinesSql(file.path, crlf, DEFAULT_MAX_LINE), file, options))
        .then((result) => result.rowsChanged);
      const [inserted, scanned] = await Promise.allSettled([inserting, scanFile(file.path, onBytes, options.maxLineBytes)]);
      if (scanned.status === "rejected") throw scanned.reason;
      const scan = scanned.value;
      // In LF mode DuckDB also breaks lines at CR, so a CRLF seen only past the peek voids the guess.
      const guessHeld = !scan.sqlBlocker && (crlf || !scan.hasCrLf) && scan.longestLine < DEFAULT_MAX_LINE;
      if (!guessHeld) throw new GuessVoided(scan);
      if (inserted.status === "rejected") throw inserted.reason;
      const quarantined = await quarantineFromCsv(connection, file, scan, options, crlf, inserted.value);
      const result: NdjsonResult = {
        ...resultBase(file, scan),
        status: "landed",
        rowsLanded: inserted.value - (await forgottenIn(connection, options.table, options.loadId, file.fileName)),
        rowsQuarantined: quarantined,
      };
      await writeLedger(connection, options.table, options.loadId, [{ ...result, sha256: scan.sha256 }]);
      return result;
    });
  } catch (error) {
    if (!(error instanceof GuessVoided)) throw error;
    return landFile(connection, file, error.scan, options);
  }
}

/**
 * Lands one file in one transaction, or records why it was skipped or refused. The reader
 * is chosen from the scan before anything runs: DuckDB's CSV reader when it will split the
 * file into exactly its physical lines, else Node's splitter.
 */
async function landFile(connection: DuckDBConnection, file: NdjsonFile, scan: FileScan, options: FileOptions): Promise<NdjsonResult> {
  const { table, loadId } = options;
  const base = resultBase(file, scan);
  const reader = (options.reader ?? "auto") === "auto" && !scan.sqlBlocker ? landByCsv : landByStream;
  return withMemoryFor(connection, scan, options.memoryLimit, () =>
    inTransaction(connection, async () => {
      const decision = await applyDecision(connection, table, file.fileName, scan.sha256, options.replace ?? false);
      let result: NdjsonResult;
      if (decision.status === "skipped" || decision.status === "refused") {
        result = { ...base, status: decision.status, ...(decision.status === "refused" ? { error: decision.error } : {}) };
      } else {
        const counts = await reader(connection, file, scan, options);
        const forgotten = await forgottenIn(connection, table, loadId, file.fileName);
        result = { ...base, status: decision.status, rowsLanded: counts.landed - forgotten, rowsQuarantined: counts.quarantined };
      }
      await writeLedger(connection, table, loadId, [{ ...result, sha256: scan.sha256 }]);
      return result;
    }),
  );
}

/** A forgotten person's lines of this file, removed before the ledger counts them (privacy/forgotten.ts). */
async function forgottenIn(connection: DuckDBConnection, table: string, loadId: string, fileName: string): Promise<number> {
  return (await sweepLanded(connection, table, loadId, fileName)).get(fileName) ?? 0;
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

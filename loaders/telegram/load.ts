import type { Database } from "../../runner/database.ts";
import { landDocuments, type LandResult, type SourceDocument } from "../land.ts";
import { newLoadId } from "../ledger.ts";
import type { LoadProgress } from "../progress.ts";
import { discoverExports, type ExportSource } from "./discover.ts";
import { ParsePool } from "./pool.ts";
import { timezoneConverter } from "./timezone.ts";

export const TELEGRAM_TABLE = "telegram_messages";

export interface TelegramLoadOptions {
  /** The zone of exports whose dates carry no offset: an IANA name or `+03:00`; default UTC. */
  timezone?: string;
  /** Parse threads; 0 parses on the calling thread. Default: one per core (pool.ts says why). */
  threads?: number;
  loadId?: string;
  /** Called as each chat's documents arrive from the parser; a file is a chat folder. */
  onProgress?: (progress: LoadProgress) => void;
}

export interface TelegramLoadSummary {
  chats: number;
  results: LandResult[];
}

// Documents land while the workers go on parsing: whatever has been parsed when the previous batch
// is done, once there is at least this much. What is left to land after the last parse is then
// one batch's worth of the parse rate, not a fixed size. Not much less: each batch reads the
// table's whole ledger (landedHashes), and 2,000-record batches spent ~0.5 s of the bench's load
// doing that.
const MIN_BATCH_RECORDS = 10_000;

/**
 * Lands Telegram Desktop exports (HTML or JSON, one chat or a whole account) into
 * `raw.telegram_messages`, one canonical message per row, through the shared landing path:
 * the ledger knows a page file by its content (the same bytes under any folder are skipped, a
 * re-export's pages land as new versions), bad messages go to `raw.quarantine` with their HTML.
 */
export async function loadTelegram(db: Database, dirs: string[], options: TelegramLoadOptions = {}): Promise<TelegramLoadSummary> {
  const parse = await startTelegramParse(dirs, options);
  try {
    return await parse.land(db, options.onProgress);
  } finally {
    await parse.close();
  }
}

/** A Telegram load whose parsing has begun; close it in `finally`, landed or not. */
export interface TelegramParse {
  /** Lands what the workers parse, as they parse it, until every source is parsed. Call it once. */
  land(db: Database, onProgress?: (progress: LoadProgress) => void): Promise<TelegramLoadSummary>;
  close(): Promise<void>;
}

/**
 * Finds the chats and starts parsing them, before any database is needed: `duckform load
 * telegram` calls this first, so that the workers start, the chats are found and the first
 * pages parsed while the CLI loads DuckDB and opens the database (~0.2 s of a load's start).
 * What is parsed before `land` is called waits for it.
 */
export async function startTelegramParse(dirs: string[], options: Omit<TelegramLoadOptions, "onProgress"> = {}): Promise<TelegramParse> {
  timezoneConverter(options.timezone); // a bad --timezone fails here, before any worker starts
  const pool = await ParsePool.open(options.threads);
  let sources: ExportSource[];
  try {
    sources = await discoverExports(dirs);
  } catch (error) {
    await pool.close();
    throw error;
  }
  const loadId = options.loadId ?? newLoadId();
  const results: LandResult[] = [];
  let db: Database | undefined;
  let onProgress: ((progress: LoadProgress) => void) | undefined;
  let pending: SourceDocument[] = [];
  let pendingRecords = 0;
  let landing: Promise<void> = Promise.resolve();
  let busy = false;
  const flush = (into: Database) => {
    const batch = pending;
    pending = [];
    pendingRecords = 0;
    busy = true;
    landing = landing.then(async () => {
      try {
        results.push(...(await landDocuments(into, TELEGRAM_TABLE, batch, { rule: "content", loadId })));
      } finally {
        busy = false;
      }
      // What was parsed meanwhile lands next, as one batch.
      if (pendingRecords >= MIN_BATCH_RECORDS) flush(into);
    });
    // Observed when awaited in land(); this keeps a failed batch from counting as unhandled meanwhile.
    landing.catch(() => undefined);
  };
  const progress: LoadProgress = { files: 0, totalFiles: sources.length, bytes: 0, totalBytes: 0, rows: 0 };
  const parsing = pool.parse(sources, options.timezone, (documents) => {
    progress.files++;
    for (const d of documents) ((progress.rows += d.records.length), (progress.bytes += d.bytes));
    // Chat folders are counted as they are parsed; the byte total is extrapolated from them.
    progress.totalBytes = Math.round((progress.bytes * progress.totalFiles) / progress.files);
    onProgress?.(progress);
    pending.push(...documents);
    pendingRecords += documents.reduce((n, d) => n + d.records.length, 0);
    if (db && !busy && pendingRecords >= MIN_BATCH_RECORDS) flush(db);
  });
  // Observed in land(), or dropped by close() when nothing is landed.
  parsing.catch(() => undefined);
  return {
    async land(into, progressCallback) {
      db = into;
      onProgress = progressCallback;
      if (progress.files > 0) onProgress?.(progress);
      if (pendingRecords >= MIN_BATCH_RECORDS) flush(into);
      try {
        await parsing;
      } finally {
        // Whatever was parsed lands, even if a later chat failed to parse.
        if (pending.length > 0) flush(into);
        await landing;
      }
      return { chats: sources.length, results };
    },
    close: () => pool.close(),
  };
}

import type { Database } from "../../runner/database.ts";
import { landDocuments, type LandResult, type SourceDocument } from "../land.ts";
import { newLoadId } from "../ledger.ts";
import type { LoadProgress } from "../progress.ts";
import { discoverExports } from "./discover.ts";
import { ParsePool } from "./pool.ts";
import { timezoneConverter } from "./timezone.ts";

export const TELEGRAM_TABLE = "telegram_messages";

export interface TelegramLoadOptions {
  /** The zone of exports whose dates carry no offset: an IANA name or `+03:00`; default UTC. */
  timezone?: string;
  /** Parse threads; 0 parses on the calling thread. Default: one per core but one, as the calling thread lands meanwhile. */
  threads?: number;
  loadId?: string;
  /** Called as each chat's documents arrive from the parser; a file is a chat folder. */
  onProgress?: (progress: LoadProgress) => void;
}

export interface TelegramLoadSummary {
  chats: number;
  results: LandResult[];
}

// Documents land in batches this large, while the workers go on parsing.
const BATCH_RECORDS = 20_000;

/**
 * Lands Telegram Desktop exports (HTML or JSON, one chat or a whole account) into
 * `raw.telegram_messages`, one canonical message per row, through the shared landing path:
 * the ledger knows a page file by its content (the same bytes under any folder are skipped, a
 * re-export's pages land as new versions), bad messages go to `raw.quarantine` with their HTML.
 */
export async function loadTelegram(db: Database, dirs: string[], options: TelegramLoadOptions = {}): Promise<TelegramLoadSummary> {
  timezoneConverter(options.timezone); // a bad --timezone fails here, before any worker starts
  const pool = await ParsePool.open(options.threads);
  try {
    return await discoverParseAndLand(db, dirs, options, pool);
  } finally {
    await pool.close();
  }
}

async function discoverParseAndLand(
  db: Database,
  dirs: string[],
  options: TelegramLoadOptions,
  pool: ParsePool,
): Promise<TelegramLoadSummary> {
  const sources = await discoverExports(dirs);
  const loadId = options.loadId ?? newLoadId();
  const results: LandResult[] = [];
  let pending: SourceDocument[] = [];
  let pendingRecords = 0;
  let landing: Promise<void> = Promise.resolve();
  const flush = () => {
    const batch = pending;
    pending = [];
    pendingRecords = 0;
    landing = landing.then(async () => {
      results.push(...(await landDocuments(db, TELEGRAM_TABLE, batch, { rule: "content", loadId })));
    });
    // Observed when awaited below; this keeps a failed batch from counting as unhandled meanwhile.
    landing.catch(() => undefined);
  };
  const progress: LoadProgress = { files: 0, totalFiles: sources.length, bytes: 0, totalBytes: 0, rows: 0 };
  const parsing = pool.parse(sources, options.timezone, (documents) => {
    progress.files++;
    for (const d of documents) ((progress.rows += d.records.length), (progress.bytes += d.bytes));
    // Chat folders are counted as they are parsed; the byte total is extrapolated from them.
    progress.totalBytes = Math.round((progress.bytes * progress.totalFiles) / progress.files);
    options.onProgress?.(progress);
    pending.push(...documents);
    pendingRecords += documents.reduce((n, d) => n + d.records.length, 0);
    if (pendingRecords >= BATCH_RECORDS) flush();
  });
  try {
    await parsing;
  } finally {
    // Whatever was parsed lands, even if a later chat failed to parse.
    if (pending.length > 0) flush();
    await landing;
  }
  return { chats: sources.length, results };
}

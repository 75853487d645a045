import type { Database } from "../../runner/database.ts";
import { landDocuments, type LandResult, type SourceDocument } from "../land.ts";
import { ensureLandingTables, newLoadId } from "../ledger.ts";
import type { LoadProgress } from "../progress.ts";
import { openInputFiles, type InputFile } from "../inputFiles.ts";
import { DEFAULT_LIMITS, parseCalendar, type ExpansionLimits } from "./parseCalendar.ts";

export const CALENDAR_TABLE = "calendar_events";

export interface CalendarLoadOptions {
  replace?: boolean;
  loadId?: string;
  limits?: Partial<ExpansionLimits>;
  onProgress?: (state: LoadProgress) => void;
  onWarning?: (message: string) => void;
}

/** Files read, parsed and landed at a time, and the bytes they may hold: one transaction each. */
const BATCH_FILES = 200;
const BATCH_BYTES = 64 * 2 ** 20;

/**
 * Lands iCalendar files (`.ics`, `.ical`; a file, a folder of them, or a zip such as Google
 * Calendar's export, one `.ics` per calendar) into `raw.calendar_events`, one row per VEVENT,
 * one ledger entry per file. A VEVENT that does not parse, or names a time zone nobody defines,
 * is quarantined with its line; a file that cannot be read is recorded as failed and retried
 * by the next load. The table exists afterwards even when no file had an event.
 */
export async function loadCalendar(db: Database, paths: string[], options: CalendarLoadOptions = {}): Promise<LandResult[]> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const input = await openInputFiles(paths, [".ics", ".ical", ".ifb"]);
  try {
    for (const skipped of input.skipped) options.onWarning?.(`skipped ${skipped}`);
    await db.withConnection((connection) => ensureLandingTables(connection, CALENDAR_TABLE));
    const landOptions = { replace: options.replace, loadId: options.loadId ?? newLoadId() };
    const progress: LoadProgress = {
      files: 0,
      totalFiles: input.files.length,
      bytes: 0,
      totalBytes: input.files.reduce((n, f) => n + f.size, 0),
      rows: 0,
    };
    const results: LandResult[] = [];
    for (const batch of batches(input.files)) {
      const docs: SourceDocument[] = [];
      for (const file of batch) docs.push(await calendarDocument(file, limits));
      for (const result of await landDocuments(db, CALENDAR_TABLE, docs, landOptions)) {
        results.push(result);
        progress.rows += result.rowsLanded;
      }
      progress.files += batch.length;
      progress.bytes += batch.reduce((n, f) => n + f.size, 0);
      options.onProgress?.(progress);
    }
    return results;
  } finally {
    input.close();
  }
}

async function calendarDocument(file: InputFile, limits: ExpansionLimits): Promise<SourceDocument> {
  const base = { path: file.path, fileName: file.fileName, bytes: file.size };
  const content = await file.read();
  if ("failure" in content) return { ...base, sha256: `unread:${file.size}`, lines: 0, records: [], failure: content.failure };
  let text = content.bytes.toString("utf8");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { ...base, sha256: content.sha256, lines: countLines(text), records: parseCalendar(text, limits) };
}

function countLines(text: string): number {
  let lines = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lines++;
  return text.length > 0 && !text.endsWith("\n") ? lines + 1 : lines;
}

function batches(files: InputFile[]): InputFile[][] {
  const out: InputFile[][] = [];
  let current: InputFile[] = [];
  let bytes = 0;
  for (const file of files) {
    if (current.length > 0 && (current.length >= BATCH_FILES || bytes + file.size > BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(file);
    bytes += file.size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

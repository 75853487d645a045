import type { Database } from "../../runner/database.ts";
import { landDocuments, type LandResult, type SourceDocument } from "../land.ts";
import { newLoadId } from "../ledger.ts";
import type { LoadProgressState } from "../progress.ts";
import { parseSlackExport } from "./parseExport.ts";
import { readSlackExport } from "./readExport.ts";

export interface SlackLandResult extends LandResult {
  table: string;
}

/**
 * Lands a Slack workspace export (its folder or zip) into `raw.slack_users`, `raw.slack_channels`
 * and `raw.slack_messages`, one ledger entry per file named by its path inside the export.
 * Authors and mentions are resolved against the export's own `users.json`. One load id for all three.
 */
export async function loadSlack(
  db: Database,
  exportPath: string,
  options: { replace?: boolean; loadId?: string; onProgress?: (state: LoadProgressState) => void } = {},
): Promise<SlackLandResult[]> {
  const docs = parseSlackExport(readSlackExport(exportPath));
  const landOptions = { replace: options.replace, loadId: options.loadId ?? newLoadId() };
  const tables: [string, SourceDocument[]][] = [
    ["slack_users", docs.users],
    ["slack_channels", docs.channels],
    ["slack_messages", docs.messages],
  ];
  const all = tables.flatMap(([, list]) => list);
  const progress: LoadProgressState = { files: 0, totalFiles: all.length, bytes: 0, totalBytes: all.reduce((n, d) => n + d.bytes, 0), rows: 0 };
  const results: SlackLandResult[] = [];
  for (const [table, tableDocs] of tables) {
    // Batches keep each transaction small and let a progress bar move; the ledger is per file either way.
    for (let i = 0; i < tableDocs.length; i += BATCH_FILES) {
      const batch = tableDocs.slice(i, i + BATCH_FILES);
      for (const result of await landDocuments(db, table, batch, landOptions)) {
        results.push({ ...result, table });
        progress.rows += result.rowsLanded;
      }
      progress.files += batch.length;
      progress.bytes += batch.reduce((n, d) => n + d.bytes, 0);
      options.onProgress?.(progress);
    }
  }
  return results;
}

const BATCH_FILES = 500;

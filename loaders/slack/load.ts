import type { Database } from "../../runner/database.ts";
import { landDocuments, type LandResult, type SourceDocument } from "../land.ts";
import { newLoadId } from "../ledger.ts";
import type { LoadProgressState } from "../progress.ts";
import { CHANNEL_LISTS, dayFileDocument, isDayFile, slackDirectory } from "./parseExport.ts";
import { openSlackExport } from "./readExport.ts";

export interface SlackLandResult extends LandResult {
  table: string;
}

/** Day files read, parsed and landed at a time: one transaction each, and what memory holds. */
const BATCH_FILES = 500;

/**
 * Lands a Slack workspace export (its folder or zip) into `raw.slack_users`, `raw.slack_channels`
 * and `raw.slack_messages`, one ledger entry per file named by its path inside the export.
 * Authors and mentions are resolved against the export's own `users.json`. One load id for all
 * three. Day files go in batches; the ledger is per file, so a rerun after a crash lands only
 * what is missing.
 */
export async function loadSlack(
  db: Database,
  exportPath: string,
  options: { replace?: boolean; loadId?: string; onProgress?: (state: LoadProgressState) => void } = {},
): Promise<SlackLandResult[]> {
  const slack = openSlackExport(exportPath);
  const landOptions = { replace: options.replace, loadId: options.loadId ?? newLoadId() };
  const [usersFile] = slack.read(slack.names.filter((n) => n === "users.json"));
  const directory = slackDirectory(usersFile, slack.read(CHANNEL_LISTS.filter((n) => slack.names.includes(n))));
  const dayFiles = slack.names.filter(isDayFile);
  const landed = [...directory.users, ...directory.channels];
  const progress: LoadProgressState = {
    files: 0,
    totalFiles: landed.length + dayFiles.length,
    bytes: 0,
    totalBytes: landed.reduce((n, d) => n + d.bytes, 0) + dayFiles.reduce((n, name) => n + slack.size(name), 0),
    rows: 0,
  };
  const results: SlackLandResult[] = [];
  const land = async (table: string, docs: SourceDocument[]): Promise<void> => {
    if (docs.length === 0) return;
    for (const result of await landDocuments(db, table, docs, landOptions)) {
      results.push({ ...result, table });
      progress.rows += result.rowsLanded;
    }
    progress.files += docs.length;
    progress.bytes += docs.reduce((n, d) => n + d.bytes, 0);
    options.onProgress?.(progress);
  };
  await land("slack_users", directory.users);
  await land("slack_channels", directory.channels);
  for (let i = 0; i < dayFiles.length; i += BATCH_FILES) {
    await land("slack_messages", slack.read(dayFiles.slice(i, i + BATCH_FILES)).map((file) => dayFileDocument(file, directory)));
  }
  return results;
}

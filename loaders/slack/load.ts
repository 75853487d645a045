import type { Database } from "../../runner/database.ts";
import { landDocuments, type LandResult } from "../land.ts";
import { newLoadId } from "../ledger.ts";
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
  options: { replace?: boolean; loadId?: string } = {},
): Promise<SlackLandResult[]> {
  const docs = parseSlackExport(readSlackExport(exportPath));
  const landOptions = { replace: options.replace, loadId: options.loadId ?? newLoadId() };
  const results: SlackLandResult[] = [];
  for (const [table, tableDocs] of [
    ["slack_users", docs.users],
    ["slack_channels", docs.channels],
    ["slack_messages", docs.messages],
  ] as const) {
    if (tableDocs.length === 0) continue;
    for (const result of await landDocuments(db, table, tableDocs, landOptions)) results.push({ ...result, table });
  }
  return results;
}

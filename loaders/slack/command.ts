import type { Command } from "commander";
import { runLoadCommand, type LoadCommandOptions } from "../command.ts";
import { sizeOption } from "../size.ts";
import type { SlackLandResult } from "./load.ts";

/** `duckform load slack <export-dir-or-zip>…`. Exits 1 when any file was refused or failed. */
export function registerSlackCommand(load: Command): void {
  load
    .command("slack")
    .description("Land a Slack workspace export (folder or .zip) into raw.slack_users, raw.slack_channels, raw.slack_messages")
    .argument("<exports...>", "export folders or zip files")
    .option("--project <dir>", "Dataform project directory", ".")
    .option("--database <file>", "DuckDB database file (default: the project's)")
    .option("--workspace <key>", "the workspace's key (default: the team id in users.json)")
    .option("--allow-partial", "land an export that lacks users.json or channels.json, with a warning")
    .option("--max-entry-size <size>", "largest file an export may inflate to (default 256MB)", sizeOption)
    .option("--max-archive-size <size>", "most an export may inflate to in all (default 16GB)", sizeOption)
    .action((exports: string[], options: SlackCommandOptions) =>
      runLoadCommand("load slack", options, async (db, onProgress) => {
        const { loadSlack } = await import("./load.ts");
        const results: SlackLandResult[] = [];
        for (const path of exports) {
          const loaded = await loadSlack(db, path, {
            workspace: options.workspace,
            allowPartial: options.allowPartial,
            limits: { maxEntryBytes: options.maxEntrySize, maxArchiveBytes: options.maxArchiveSize },
            onProgress,
            onWarning: (message) => console.error(`duckform: warning: ${message}`),
          });
          results.push(...loaded);
        }
        return { results, summary: rowsPerTable(results) };
      }),
    );
}

interface SlackCommandOptions extends LoadCommandOptions {
  workspace?: string;
  allowPartial?: boolean;
  maxEntrySize?: number;
  maxArchiveSize?: number;
}

/** The rows each table got, for the summary line. */
function rowsPerTable(results: SlackLandResult[]): string {
  const rows = new Map<string, number>();
  for (const r of results) rows.set(r.table, (rows.get(r.table) ?? 0) + r.rowsLanded);
  const perTable = [...rows].map(([table, n]) => `raw.${table} ${n.toLocaleString("en")}`).join(", ");
  return perTable ? ` (${perTable})` : "";
}

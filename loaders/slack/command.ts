import type { Command } from "commander";
import { loadSummary, startLoadProgress } from "../progress.ts";
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
    .option("--replace", "replace files whose content changed since they were landed")
    .option("--allow-partial", "land an export that lacks users.json or channels.json, with a warning")
    .option("--max-entry-size <size>", "largest file an export may inflate to (default 256MB)", sizeOption)
    .option("--max-archive-size <size>", "most an export may inflate to in all (default 16GB)", sizeOption)
    .action(async (exports: string[], options: SlackCommandOptions) => {
      const started = Date.now();
      // Loaded on use, so that other commands do not start DuckDB for this one.
      const { openProjectDatabase } = await import("../../runner/project.ts");
      const { loadSlack } = await import("./load.ts");
      const db = await openProjectDatabase(options);
      const progress = startLoadProgress("load slack");
      try {
        const results: SlackLandResult[] = [];
        for (const path of exports) {
          const loaded = await loadSlack(db, path, {
            replace: options.replace,
            allowPartial: options.allowPartial,
            limits: { maxEntryBytes: options.maxEntrySize, maxArchiveBytes: options.maxArchiveSize },
            onProgress: (state) => progress.update(state),
            onWarning: (message) => console.error(`duckform: warning: ${message}`),
          });
          results.push(...loaded);
        }
        progress.stop();
        for (const r of results.filter((r) => r.status === "refused")) console.error(`duckform: refused ${r.path}: ${r.error}`);
        for (const r of results.filter((r) => r.status === "failed")) console.error(`duckform: failed ${r.error}; a rerun retries it`);
        console.log(summarize(results, (Date.now() - started) / 1000));
        if (results.some((r) => r.status === "refused" || r.status === "failed")) process.exitCode = 1;
      } finally {
        progress.stop();
        db.close();
      }
    });
}

interface SlackCommandOptions {
  project: string;
  database?: string;
  replace?: boolean;
  allowPartial?: boolean;
  maxEntrySize?: number;
  maxArchiveSize?: number;
}

/** The shared summary line, with the rows each table got. */
export function summarize(results: SlackLandResult[], seconds?: number): string {
  const rows = new Map<string, number>();
  for (const r of results) rows.set(r.table, (rows.get(r.table) ?? 0) + r.rowsLanded);
  const perTable = [...rows].map(([table, n]) => `raw.${table} ${n.toLocaleString("en")}`).join(", ");
  return `${loadSummary("load slack", results, seconds)}${perTable ? ` (${perTable})` : ""}`;
}

import type { Command } from "commander";
import { openProjectDatabase } from "../../runner/project.ts";
import { loadSlack, type SlackLandResult } from "./load.ts";

/** `duckform load slack <export-dir-or-zip>…` */
export function registerSlackCommand(load: Command): void {
  load
    .command("slack")
    .description("Land a Slack workspace export (folder or .zip) into raw.slack_users, raw.slack_channels, raw.slack_messages")
    .argument("<exports...>", "export folders or zip files")
    .option("--project <dir>", "Dataform project directory", ".")
    .option("--database <file>", "DuckDB database file (default: the project's)")
    .option("--replace", "replace files whose content changed since they were landed")
    .action(async (exports: string[], options: { project: string; database?: string; replace?: boolean }) => {
      const db = await openProjectDatabase(options);
      try {
        const results: SlackLandResult[] = [];
        for (const path of exports) results.push(...(await loadSlack(db, path, { replace: options.replace })));
        for (const r of results.filter((r) => r.status === "refused")) console.error(`refused ${r.fileName}: ${r.error}`);
        console.log(summarize(results));
        if (results.some((r) => r.status === "refused")) process.exitCode = 1;
      } finally {
        db.close();
      }
    });
}

/** "slack: 19 files (19 landed, 0 skipped, 0 refused); slack_messages 158 rows, …; 0 quarantined" */
export function summarize(results: SlackLandResult[]): string {
  const count = (status: SlackLandResult["status"]) => results.filter((r) => r.status === status).length;
  const rows = new Map<string, number>();
  for (const r of results) rows.set(r.table, (rows.get(r.table) ?? 0) + r.rowsLanded);
  const quarantined = results.reduce((n, r) => n + r.rowsQuarantined, 0);
  const landed = count("landed") + count("replaced");
  const perTable = [...rows].map(([table, n]) => `${table} ${n} rows`).join(", ");
  return (
    `slack: ${results.length} files (${landed} landed, ${count("skipped")} skipped, ${count("refused")} refused); ` +
    `${perTable || "no rows"}; ${quarantined} quarantined`
  );
}

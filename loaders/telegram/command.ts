import type { Command } from "commander";
import { loadSummary, startLoadProgress } from "../progress.ts";

/** `duckform load telegram <export-dir>… [--timezone TZ] [--replace]`. Exits 1 when any file was refused. */
export function registerTelegramCommand(load: Command): void {
  load
    .command("telegram")
    .description("Land Telegram Desktop exports (HTML or JSON; one chat or a whole account) into raw.telegram_messages")
    .argument("<dirs...>", "export folders: one chat's, or a whole account's (chat folders are found recursively)")
    .option("--timezone <tz>", "zone of exports whose dates carry no offset: IANA name or +03:00", "UTC")
    .option("--replace", "replace files whose content changed since they were landed")
    .option("--project <dir>", "Dataform project directory", ".")
    .option("--database <file>", "DuckDB database file (default: the project's)")
    .action(async (dirs: string[], options: { timezone: string; replace?: boolean; project: string; database?: string }) => {
      const started = Date.now();
      // Loaded on use, so that other commands do not load cheerio or start DuckDB for this one.
      const { openProjectDatabase } = await import("../../runner/project.ts");
      const { loadTelegram } = await import("./index.ts");
      const db = await openProjectDatabase(options);
      const progress = startLoadProgress("load telegram");
      try {
        const { chats, results } = await loadTelegram(db, dirs, {
          timezone: options.timezone,
          replace: options.replace,
          // Chat folders are counted as they are parsed; the byte total is extrapolated from them.
          onProgress: (p) =>
            progress.update({
              files: p.chatsParsed,
              totalFiles: p.chats,
              bytes: p.bytes,
              totalBytes: Math.round((p.bytes * p.chats) / Math.max(p.chatsParsed, 1)),
              rows: p.messages,
            }),
        });
        progress.stop();
        for (const r of results.filter((r) => r.status === "refused")) console.error(`duckform: refused ${r.fileName}: ${r.error}`);
        console.log(`${loadSummary("load telegram", results, (Date.now() - started) / 1000)} from ${chats} chats`);
        if (results.some((r) => r.status === "refused")) process.exitCode = 1;
      } finally {
        progress.stop();
        db.close();
      }
    });
}

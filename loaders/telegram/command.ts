import type { Command } from "commander";
import { openProjectDatabase } from "../../runner/project.ts";
import type { LandResult } from "../land.ts";
import { loadTelegram, type TelegramProgress } from "./index.ts";

/** `duckform load telegram <export-dir>… [--timezone TZ] [--replace]` */
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
      const db = await openProjectDatabase(options);
      try {
        const started = Date.now();
        const { chats, results } = await loadTelegram(db, dirs, {
          timezone: options.timezone,
          replace: options.replace,
          onProgress: progressLine(started),
        });
        if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
        for (const r of results.filter((r) => r.status === "refused")) console.error(`refused ${r.fileName}: ${r.error}`);
        console.log(summarize(chats, results, Date.now() - started));
        if (results.some((r) => r.status === "refused")) process.exitCode = 1;
      } finally {
        db.close();
      }
    });
}

/** "telegram: 12 chats, 14 files (14 landed, 0 skipped, 0 refused); 2,301 messages, 0 quarantined in 1.2 s" */
export function summarize(chats: number, results: LandResult[], ms: number): string {
  const count = (...statuses: LandResult["status"][]) => results.filter((r) => statuses.includes(r.status)).length;
  const rows = results.reduce((n, r) => n + r.rowsLanded, 0);
  const quarantined = results.reduce((n, r) => n + r.rowsQuarantined, 0);
  return (
    `telegram: ${chats} chats, ${results.length} files (${count("landed", "replaced")} landed, ${count("skipped")} skipped, ` +
    `${count("refused")} refused); ${rows} messages, ${quarantined} quarantined in ${(ms / 1000).toFixed(1)} s`
  );
}

/** A one-line progress display on a terminal, shown once a load has run for a second. */
function progressLine(started: number): ((p: TelegramProgress) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let shown = 0;
  return (p) => {
    const now = Date.now();
    if (now - started < 1000 || now - shown < 100) return;
    shown = now;
    const mbPerSecond = p.bytes / 1e6 / ((now - started) / 1000);
    process.stderr.write(`\r\x1b[Ktelegram: ${p.chatsParsed}/${p.chats} chats parsed, ${p.messages} messages, ${mbPerSecond.toFixed(1)} MB/s`);
  };
}

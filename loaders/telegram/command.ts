import type { Command } from "commander";
import { runLoadCommand, type LoadCommandOptions } from "../command.ts";

/**
 * `duckform load telegram <export-dir>… [--timezone TZ]`. Exits 1 when any file failed. No
 * `--replace`: a re-export lands beside the earlier one and its copies of messages win.
 */
export function registerTelegramCommand(load: Command): void {
  load
    .command("telegram")
    .description("Land Telegram Desktop exports (HTML or JSON; one chat or a whole account) into raw.telegram_messages")
    .argument("<dirs...>", "export folders: one chat's, or a whole account's (chat folders are found recursively)")
    .option("--timezone <tz>", "zone of exports whose dates carry no offset: IANA name or +03:00", "UTC")
    .option("--project <dir>", "Dataform project directory", ".")
    .option("--database <file>", "DuckDB database file (default: the project's)")
    .action(async (dirs: string[], options: LoadCommandOptions & { timezone: string }) => {
      // Loaded on use, so that other commands do not load the HTML parser and its workers for this one.
      const { startTelegramParse } = await import("./load.ts");
      // Parsing starts before the database opens (load.ts says why).
      const parse = await startTelegramParse(dirs, { timezone: options.timezone });
      try {
        await runLoadCommand(
          "load telegram",
          options,
          async (db, onProgress) => {
            const { chats, results } = await parse.land(db, onProgress);
            return { results, summary: ` from ${chats} chats` };
          },
          { refusedName: (result) => result.fileName },
        );
      } finally {
        await parse.close();
      }
    });
}

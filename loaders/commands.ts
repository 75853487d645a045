import type { Command } from "commander";
import { registerSlackCommand } from "./slack/command.ts";
import { registerTelegramCommand } from "./telegram/command.ts";
import { loadSeeds } from "./seeds.ts";
import { openProjectDatabase } from "../runner/project.ts";

/**
 * The `load …`, `seed` and `generate-sample` commands. Each loader adds its own block below;
 * the runner's CLI calls this once. Every command takes `--project DIR` (default ".") and
 * `--database FILE` and opens the database with `openProjectDatabase` from runner/project.ts,
 * so loaders and `duckform run` share one file.
 */
export function registerLoadCommands(program: Command): void {
  const load = program.command("load").description("Land raw files into the project's DuckDB database");
  void load;

  // Telegram (loaders/telegram/)
  registerTelegramCommand(load);

  // Slack (loaders/slack/)
  registerSlackCommand(load);

  // Seeds (loaders/seeds.ts)
  program
    .command("seed")
    .description("Load seeds/*.csv into seeds.<name> tables with the types declared in seeds/seeds.yaml")
    .option("--project <dir>", "Dataform project directory", ".")
    .option("--database <file>", "DuckDB database file (default: the project's)")
    .action(async (options: { project: string; database?: string }) => {
      const db = await openProjectDatabase(options);
      try {
        const results = await loadSeeds(db, options.project);
        console.log(`seed: ${results.length} tables (${results.map((r) => `${r.table} ${r.rows} rows`).join(", ") || "no seeds"})`);
      } finally {
        db.close();
      }
    });
}

import type { Command } from "commander";
import { registerNdjsonCommand } from "./ndjson/command.ts";
import { registerSlackCommand } from "./slack/command.ts";
import { registerTelegramCommand } from "./telegram/command.ts";
import { parseCount } from "../runner/flags.ts";
import { DEFAULT_SAMPLE, TINY_SAMPLE, generateSample, writeSampleSeeds } from "./sample.ts";

/**
 * The `load …`, `seed` and `generate-sample` commands. Each loader adds its own block below;
 * the runner's CLI calls this once. Every command takes `--project DIR` (default ".") and
 * `--database FILE` and opens the database with `openProjectDatabase` from runner/project.ts,
 * so loaders and `duckform run` share one file.
 */
export function registerLoadCommands(program: Command): void {
  const load = program.command("load").description("Land raw files into the project's DuckDB database");

  // NDJSON (loaders/ndjson/)
  registerNdjsonCommand(load);

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
      // Loaded on use, so that other commands do not start DuckDB for this one.
      const { openProjectDatabase } = await import("../runner/project.ts");
      const { loadSeeds } = await import("./seeds.ts");
      const db = await openProjectDatabase(options);
      try {
        const results = await loadSeeds(db, options.project);
        console.log(`seed: ${results.length} tables (${results.map((r) => `${r.table} ${r.rows} rows`).join(", ") || "no seeds"})`);
      } finally {
        db.close();
      }
    });

  // Sample data (loaders/sample.ts)
  program
    .command("generate-sample")
    .description("Write a deterministic sample dataset: events/*.ndjson, slack/, telegram/ and manifest.json")
    .argument("<dir>", "where to write it")
    .option("--seed <n>", `seed of the pseudo-random generator (default ${DEFAULT_SAMPLE.seed}, with --tiny ${TINY_SAMPLE.seed})`, parseCount)
    .option("--events <n>", "distinct valid product events (defects come on top)", parseCount, DEFAULT_SAMPLE.events)
    .option("--slack-messages <n>", "Slack messages", parseCount, DEFAULT_SAMPLE.slackMessages)
    .option("--telegram-chats <n>", "Telegram chats from the format generator, besides the company groups", parseCount, DEFAULT_SAMPLE.telegramChats)
    .option("--telegram-messages <n>", "messages per Telegram chat (on average)", parseCount, DEFAULT_SAMPLE.telegramMessagesPerChat)
    .option("--tiny", "the tiny sample the tests use (overrides the sizes)")
    .option("--write-seeds <dir>", "also write the sample world's seed CSVs (and a seeds.yaml if the folder has none) into this folder")
    .action(async (dir: string, o: { seed?: number; events: number; slackMessages: number; telegramChats: number; telegramMessages: number; tiny?: boolean; writeSeeds?: string }) => {
      const started = Date.now();
      const sizes = o.tiny
        ? { ...TINY_SAMPLE, seed: o.seed ?? TINY_SAMPLE.seed }
        : { seed: o.seed ?? DEFAULT_SAMPLE.seed, events: o.events, slackMessages: o.slackMessages, telegramChats: o.telegramChats, telegramMessagesPerChat: o.telegramMessages };
      const m = await generateSample(dir, sizes);
      if (o.writeSeeds) writeSampleSeeds(o.writeSeeds);
      const e = m.events;
      console.log(
        `generate-sample: ${e.files.length} event files, ${e.lines} lines (${e.validEvents} valid events, ${e.duplicates.length} duplicates, ` +
          `${e.late.length} late, ${e.malformed.length} malformed, ${e.invalid.length} invalid, ${e.blank.length} blank); ` +
          `slack ${m.slack.messages} messages in ${m.slack.channels.length} channels; ` +
          `telegram ${m.telegram.groups.chats.length} company groups + ${m.telegram.generated.chats} generated chats; ` +
          `in ${((Date.now() - started) / 1000).toFixed(1)} s → ${dir}/manifest.json`,
      );
    });
}

import type { Command } from "commander";
import { parseCount } from "../../runner/flags.ts";
import { DEFAULT_SAMPLE, TINY_SAMPLE, generateSample, writeSampleSeeds } from "./generate.ts";

/** `duckform generate-sample <dir>`: the deterministic sample dataset, with its manifest. */
export function registerSampleCommand(program: Command): void {
  program
    .command("generate-sample")
    .description(
      "Write a deterministic sample dataset: events/*.ndjson, slack/, telegram/, calendar/, hubspot/, product/product.sql and manifest.json",
    )
    .argument("<dir>", "where to write it")
    .option(
      "--seed <n>",
      `seed of the pseudo-random generator (default ${DEFAULT_SAMPLE.seed}, with --tiny ${TINY_SAMPLE.seed})`,
      parseCount,
    )
    .option("--events <n>", "distinct valid product events (defects come on top)", parseCount, DEFAULT_SAMPLE.events)
    .option("--slack-messages <n>", "Slack messages", parseCount, DEFAULT_SAMPLE.slackMessages)
    .option(
      "--telegram-chats <n>",
      "Telegram chats from the format generator, besides the company groups",
      parseCount,
      DEFAULT_SAMPLE.telegramChats,
    )
    .option("--telegram-messages <n>", "messages per Telegram chat (on average)", parseCount, DEFAULT_SAMPLE.telegramMessagesPerChat)
    .option("--tiny", "the tiny sample the tests use (overrides the sizes)")
    .option("--write-seeds <dir>", "also write the sample world's seed CSVs (and a seeds.yaml if the folder has none) into this folder")
    .action(
      async (
        dir: string,
        o: {
          seed?: number;
          events: number;
          slackMessages: number;
          telegramChats: number;
          telegramMessages: number;
          tiny?: boolean;
          writeSeeds?: string;
        },
      ) => {
        const started = Date.now();
        const sizes = o.tiny
          ? { ...TINY_SAMPLE, seed: o.seed ?? TINY_SAMPLE.seed }
          : {
              seed: o.seed ?? DEFAULT_SAMPLE.seed,
              events: o.events,
              slackMessages: o.slackMessages,
              telegramChats: o.telegramChats,
              telegramMessagesPerChat: o.telegramMessages,
            };
        const m = await generateSample(dir, sizes);
        if (o.writeSeeds) writeSampleSeeds(o.writeSeeds);
        const e = m.events;
        console.log(
          `generate-sample: ${e.files.length} event files, ${e.lines} lines (${e.validEvents} valid events, ${e.duplicates.length} duplicates, ` +
            `${e.late.length} late, ${e.malformed.length} malformed, ${e.invalid.length} invalid, ${e.blank.length} blank); ` +
            `slack ${m.slack.messages} messages in ${m.slack.channels.length} channels; ` +
            `telegram ${m.telegram.groups.chats.length} company groups + ${m.telegram.generated.chats} generated chats; ` +
            `calendar ${m.calendar.events} events in ${m.calendar.calendars.length} calendars; ` +
            `hubspot ${m.hubspot.companies} companies, ${m.hubspot.contacts} contacts, ${m.hubspot.deals} deals; ` +
            `product ${m.product.conversations} conversations, ${m.product.messages} messages; ` +
            `in ${((Date.now() - started) / 1000).toFixed(1)} s → ${dir}/manifest.json`,
        );
      },
    );
}

import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { UserError } from "../../runner/errors.ts";
import { writeSampleCalendar, type CalendarSampleManifest } from "./calendar.ts";
import { writeSampleHubspot, type HubspotSampleManifest } from "./hubspot.ts";
import { writeSampleProduct, type ProductSampleManifest } from "./product.ts";
import { generateTelegramExport } from "./telegramExport.ts";
import { TINY_PLANTED, writeSampleEvents, type EventsManifest, type PlantedCounts } from "./events.ts";
import { SAMPLE_SEEDS_YAML, sampleSeedCsvs } from "./seedFiles.ts";
import { writeSampleSlackExport, type SlackSampleManifest } from "./slack.ts";
import { writeSampleTelegramChats, type TelegramSampleManifest } from "./telegram.ts";

export interface SampleOptions {
  seed: number;
  /** Distinct valid product events; duplicates and planted defects come on top. */
  events: number;
  slackMessages: number;
  /** Chats of the Telegram format generator (random people, 2023), besides the company groups. */
  telegramChats: number;
  /** Messages per Telegram chat, company groups and generated chats alike. */
  telegramMessagesPerChat: number;
  planted?: PlantedCounts;
  /** The day the chat exports were taken (`2024-09-30`): messages after it are not in them; default the year's end. */
  exportedAt?: string;
  /** The form of the company groups' Telegram export; default html. */
  telegramFormat?: "html" | "json";
}

export const DEFAULT_SAMPLE: SampleOptions = {
  seed: 42,
  events: 20_000,
  slackMessages: 600,
  telegramChats: 3,
  telegramMessagesPerChat: 150,
};

/** Small enough for a test to generate and land in well under a second. */
export const TINY_SAMPLE: SampleOptions = {
  seed: 3,
  events: 400,
  slackMessages: 40,
  telegramChats: 1,
  telegramMessagesPerChat: 12,
  planted: TINY_PLANTED,
};

export interface SampleManifest {
  seed: number;
  layout: { events: string; slack: string; telegram: string; calendar: string; hubspot: string; product: string };
  events: EventsManifest;
  slack: SlackSampleManifest;
  telegram: {
    /** `telegram/chats/group_NN/`: one chat per company Telegram group, seed people, 2024. */
    groups: TelegramSampleManifest;
    /** `telegram/chats/chat_N/`: generateTelegramExport's chats, for the format's corner cases. */
    generated: { chats: number; messagesPerChat: number };
  };
  calendar: CalendarSampleManifest;
  hubspot: HubspotSampleManifest;
  product: ProductSampleManifest;
}

/**
 * Writes a deterministic sample dataset under `dir`: `events/*.ndjson` (product events for 2024
 * with planted duplicates, late events, malformed lines and invalid rows), `slack/` (a workspace
 * export), `telegram/` (a Telegram Desktop HTML export: the company groups of the seeds plus the
 * format generator's chats), `calendar/` (a Google Calendar export zip), `hubspot/` (CRM CSV
 * exports), `product/product.sql` (the product's PostgreSQL database as a dump) and
 * `manifest.json`, which lists every
 * planted defect with its file and line so that tests downstream can assert them.
 * The folders it writes are replaced; nothing else in `dir` is touched.
 */
export async function generateSample(dir: string, options: Partial<SampleOptions> = {}): Promise<SampleManifest> {
  const o = { ...DEFAULT_SAMPLE, ...options };
  for (const [name, value] of Object.entries({
    seed: o.seed,
    events: o.events,
    slackMessages: o.slackMessages,
    telegramChats: o.telegramChats,
    telegramMessagesPerChat: o.telegramMessagesPerChat,
  })) {
    if (!Number.isInteger(value) || value < 0) throw new UserError(`generate-sample: ${name} must be a whole number ≥ 0, got ${value}`);
  }
  const root = resolve(dir);
  const layout = { events: "events", slack: "slack", telegram: "telegram", calendar: "calendar", hubspot: "hubspot", product: "product" };
  for (const folder of Object.values(layout)) rmSync(join(root, folder), { recursive: true, force: true });
  mkdirSync(root, { recursive: true });

  const events = writeSampleEvents(join(root, layout.events), { seed: o.seed, events: o.events, planted: o.planted });
  const exportedAt = o.exportedAt === undefined ? undefined : Date.parse(`${o.exportedAt}T23:59:59Z`) / 1000;
  if (exportedAt !== undefined && !Number.isFinite(exportedAt))
    throw new UserError(`generate-sample: exportedAt must be a date, got ${o.exportedAt}`);
  const slack = writeSampleSlackExport(join(root, layout.slack), { seed: o.seed, messages: o.slackMessages, exportedAt });
  if (o.telegramChats > 0) {
    await generateTelegramExport(join(root, layout.telegram), {
      chats: o.telegramChats,
      messagesPerChat: o.telegramMessagesPerChat,
      seed: o.seed,
    });
  }
  const groups = writeSampleTelegramChats(join(root, layout.telegram), {
    seed: o.seed,
    messagesPerChat: o.telegramMessagesPerChat,
    exportedAt,
    format: o.telegramFormat,
  });

  const manifest: SampleManifest = {
    seed: o.seed,
    layout,
    events,
    slack,
    telegram: { groups, generated: { chats: o.telegramChats, messagesPerChat: o.telegramMessagesPerChat } },
    calendar: writeSampleCalendar(join(root, layout.calendar), { seed: o.seed }),
    hubspot: writeSampleHubspot(join(root, layout.hubspot), { seed: o.seed }),
    product: writeSampleProduct(join(root, layout.product), { seed: o.seed }),
  };
  writeFileSync(join(root, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  return manifest;
}

/**
 * Writes the sample world's seed CSVs into `dir`, and a `seeds.yaml` with their column types
 * when the folder has none (an existing one may declare other seeds too, so it is left alone).
 */
export function writeSampleSeeds(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files = Object.entries(sampleSeedCsvs());
  if (!existsSync(join(dir, "seeds.yaml"))) files.push(["seeds.yaml", SAMPLE_SEEDS_YAML]);
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
  return files.map(([name]) => name);
}

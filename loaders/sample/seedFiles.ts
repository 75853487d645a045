import { csvField } from "../csv.ts";
import { categories, episodes } from "./catalog.ts";
import { companies, people } from "./world.ts";

/**
 * The project's seed CSVs that describe the sample world, so that the shipped `seeds/` and every
 * generated sample name the same people, companies and episodes. A test checks that `seeds/`
 * holds exactly these; regenerate with `duckform generate-sample DIR --write-seeds seeds`.
 * Their column types are SAMPLE_SEEDS_YAML, which `seeds/seeds.yaml` must declare too (other
 * seeds may sit beside them).
 */
export function sampleSeedCsvs(): Record<string, string> {
  return {
    "users.csv": csv(
      [
        "user_id",
        "email",
        "display_name",
        "telegram_name",
        "slack_user_id",
        "company",
        "plan",
        "signup_date",
        "country_code",
        "is_internal",
        "analysis_consent",
      ],
      people().map((p) => [
        p.userId,
        p.email,
        p.displayName,
        p.telegramName,
        p.slackUserId,
        p.company,
        p.plan,
        p.signupDate,
        p.countryCode,
        p.isInternal,
        p.analysisConsent,
      ]),
    ),
    "podcast_episodes.csv": csv(
      ["episode_id", "show_name", "episode_number", "title", "published_date", "duration_seconds", "topic", "is_premium", "credits_cost"],
      episodes().map((e) => [
        e.episodeId,
        e.showName,
        e.episodeNumber,
        e.title,
        e.publishedDate,
        e.durationSeconds,
        e.topic,
        e.isPremium,
        e.creditsCost,
      ]),
    ),
    "company_mapping.csv": csv(
      ["company", "variant_name", "variant_type", "slack_group", "telegram_group", "calendar_domain"],
      companies.flatMap((c) =>
        c.variants.map((v) => [c.company, v, variantType(c.company, v), c.slackGroup, c.telegramGroup, c.calendarDomain]),
      ),
    ),
    "message_categories.csv": csv(
      ["category", "description", "keywords"],
      categories.map((c) => [c.category, c.description, listLiteral(c.keywords)]),
    ),
  };
}

/**
 * Seed 001's variant_type: how a spelling relates to the canonical name. canonical (the name
 * itself), legal_name (with Inc., GmbH, Ltd or LLC), short_name (its first word, in any case),
 * slug (hyphenated), or misspelling (anything else, e.g. "TideWater Studio").
 */
export function variantType(company: string, variant: string): string {
  if (variant === company) return "canonical";
  if (/\b(inc\.?|gmbh|ltd\.?|llc)$/i.test(variant)) return "legal_name";
  if (variant.toLowerCase() === company.split(" ")[0]!.toLowerCase()) return "short_name";
  if (variant.includes("-")) return "slug";
  return "misspelling";
}

function csv(header: string[], rows: (string | number | boolean | null)[][]): string {
  return [header, ...rows].map((row) => row.map(csvField).join(",")).join("\n") + "\n";
}

/** A DuckDB list literal that `cast(… as varchar[])` reads back: `[bug, "doesn't work"]`. */
function listLiteral(items: string[]): string {
  return `[${items.map((k) => (/^[a-z0-9][a-z0-9 -]*[a-z0-9]$/i.test(k) ? k : `"${k}"`)).join(", ")}]`;
}

export const SAMPLE_SEEDS_YAML = `# Column types of the seeds in this folder, the way dbt declares them: per seed, column → DuckDB type.
# Columns not listed load as VARCHAR; an empty field is NULL. Load with \`duckform seed\`.
seeds:
  users:
    description: One row per person who uses the app, with the identities that link them across sources.
    column_types:
      user_id: VARCHAR
      email: VARCHAR
      display_name: VARCHAR
      telegram_name: VARCHAR
      slack_user_id: VARCHAR
      company: VARCHAR # as typed at sign-up; may be a variant: resolve through company_mapping.variant_name
      plan: VARCHAR
      signup_date: DATE
      country_code: VARCHAR
      is_internal: BOOLEAN
      analysis_consent: BOOLEAN # agreed to per-user LLM analysis; without it only in aggregates
  podcast_episodes:
    description: One row per published episode.
    column_types:
      episode_id: VARCHAR
      show_name: VARCHAR
      episode_number: INTEGER
      title: VARCHAR
      published_date: DATE
      duration_seconds: INTEGER
      topic: VARCHAR
      is_premium: BOOLEAN
      credits_cost: INTEGER
  company_mapping:
    description: One row per spelling of a company's name, with where the company talks to us.
    column_types:
      company: VARCHAR
      variant_name: VARCHAR
      variant_type: VARCHAR # canonical, legal_name, short_name, slug or misspelling
      slack_group: VARCHAR
      telegram_group: VARCHAR
      calendar_domain: VARCHAR
  message_categories:
    description: One row per predefined message category, with keywords for the local classifier.
    column_types:
      category: VARCHAR
      description: VARCHAR
      keywords: VARCHAR[]
`;

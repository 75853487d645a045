import type { DuckDBConnection } from "@duckdb/node-api";
import { UserError } from "../runner/errors.ts";
import { quoteQualified } from "../runner/quote.ts";
import type { KnownIdentities } from "./redact.ts";

export interface CategoryRule {
  category: string;
  description: string;
  keywords: string[];
}

export interface Platform {
  platform: string;
  aliases: string[];
  domains: string[];
}

export interface KnownPerson {
  /** The name entities are recorded under: the seed's display name. */
  name: string;
  aliases: string[];
}

/** What enrichment knows before reading a message: categories, platforms, companies, shows and people. */
export interface Lexicon {
  categories: CategoryRule[];
  platforms: Platform[];
  /** spelling → canonical company name (seeds.company_mapping). */
  organizations: Map<string, string>;
  /** Show names and episode titles (seeds.podcast_episodes). */
  media: string[];
  people: KnownPerson[];
  identities: KnownIdentities;
}

/** Where the lexicon is read from: seed tables and the cleansed users. */
export interface LexiconTables {
  categories: [string, string];
  platforms: [string, string];
  companies: [string, string];
  episodes: [string, string];
  users: [string, string];
}

/**
 * Reads the lexicon from the project's database. Categories are required (they are the output
 * schema); every other table is optional, so enrichment still runs on a database that has only
 * messages and `duckform seed`'s categories.
 */
export async function loadLexicon(connection: DuckDBConnection, tables: LexiconTables): Promise<Lexicon> {
  const present = await existingTables(connection);
  const has = ([schema, name]: [string, string]) => present.has(`${schema}.${name}`);
  const rows = async (table: [string, string], select: string) =>
    has(table) ? (await connection.runAndReadAll(`select ${select} from ${quoteQualified(...table)}`)).getRowObjectsJS() : [];

  if (!has(tables.categories)) {
    throw new UserError(`${tables.categories.join(".")} does not exist: load the seeds first with \`duckform seed\``);
  }
  const categories = (await rows(tables.categories, "category, description, keywords")).map((r) => ({
    category: String(r.category),
    description: String(r.description ?? ""),
    keywords: ((r.keywords as string[] | null) ?? []).map(String),
  }));
  if (categories.length === 0) throw new UserError(`${tables.categories.join(".")} is empty: enrichment needs at least one category`);

  const platforms = (await rows(tables.platforms, "platform, aliases, domains")).map((r) => ({
    platform: String(r.platform),
    aliases: ((r.aliases as string[] | null) ?? []).map(String),
    domains: ((r.domains as string[] | null) ?? []).map(String),
  }));

  const organizations = new Map<string, string>();
  for (const r of await rows(tables.companies, "company, variant_name")) {
    if (r.company) organizations.set(String(r.company), String(r.company));
    if (r.variant_name && r.company) organizations.set(String(r.variant_name), String(r.company));
  }

  const media = new Set<string>();
  for (const r of await rows(tables.episodes, "show_name, title")) {
    if (r.show_name) media.add(String(r.show_name));
    if (r.title) media.add(String(r.title));
  }

  const people: KnownPerson[] = [];
  const names: string[] = [];
  const ids: string[] = [];
  if (has(tables.users)) {
    const columns = await tableColumns(connection, tables.users);
    const pick = (c: string) => (columns.has(c) ? c : `null as ${c}`);
    const users = await rows(
      tables.users,
      ["user_key", "user_id", "display_name", "email", "telegram_name", "slack_user_id"].map(pick).join(", "),
    );
    for (const u of users) {
      const display = u.display_name ? String(u.display_name) : null;
      const telegram = u.telegram_name ? String(u.telegram_name) : null;
      if (display || telegram) people.push({ name: (display ?? telegram)!, aliases: [display, telegram].filter((n): n is string => !!n) });
      for (const n of [display, telegram]) if (n) names.push(n);
      for (const i of [u.user_key, u.user_id, u.slack_user_id]) if (i) ids.push(String(i));
      // An email inside a name field would otherwise pass as a name.
      if (u.email) ids.push(String(u.email));
    }
  }
  return { categories, platforms, organizations, media: [...media], people, identities: { names, ids } };
}

async function existingTables(connection: DuckDBConnection): Promise<Set<string>> {
  const reader = await connection.runAndReadAll(
    "select table_schema, table_name from information_schema.tables where table_catalog = current_database()",
  );
  return new Set(reader.getRowObjectsJS().map((r) => `${r.table_schema}.${r.table_name}`));
}

async function tableColumns(connection: DuckDBConnection, [schema, name]: [string, string]): Promise<Set<string>> {
  const prepared = await connection.prepare(
    "select column_name from information_schema.columns where table_catalog = current_database() and table_schema = $1 and table_name = $2",
  );
  prepared.bindVarchar(1, schema);
  prepared.bindVarchar(2, name);
  const reader = await prepared.runAndReadAll();
  return new Set(reader.getRowObjectsJS().map((r) => String(r.column_name)));
}

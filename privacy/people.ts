/**
 * The one declared list of where people are. A source added later (calendar attendees, HubSpot
 * contacts, a Postgres table) is covered by adding its identity table to PERSON_SOURCES and,
 * if its rows name their person in a column or payload key not listed, that name to
 * PERSON_FIELDS. Everything else is found from the catalog: every table and text column of the
 * database is swept, whatever its schema.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { UserError } from "../runner/errors.ts";
import { quoteQualified } from "../runner/quote.ts";

/**
 * Tables that link a person (their user_key) to identifiers: `select user_key, value` over
 * `t`, the table. forget-user finds the person whose identifier is the one given, then forgets
 * every identifier of theirs listed here.
 */
export const PERSON_SOURCES: { schema: string; table: string; sql: (t: string) => string }[] = [
  {
    schema: "silver",
    table: "int_user_identities",
    sql: (t) => `select user_key, unnest([user_key, user_id, identity, display_name, email]) as value from ${t}`,
  },
  {
    schema: "silver",
    table: "int_users",
    sql: (t) => `select user_key, unnest([user_key, user_id, display_name, email, telegram_name, slack_user_id]) as value from ${t}`,
  },
  {
    schema: "seeds",
    table: "users",
    sql: (t) => `select user_id as user_key, unnest([user_id, email, display_name, telegram_name, slack_user_id]) as value from ${t}`,
  },
  {
    // HubSpot contacts, keyed by the e-mail that int_users holds as the person's.
    schema: "bronze",
    table: "stg_hubspot__contacts",
    sql: (t) =>
      `select email as user_key, unnest([email, hubspot_contact_id, nullif(trim(concat_ws(' ', first_name, last_name)), '')]) as value from ${t}`,
  },
  {
    // Keyed by the Slack id, which int_user_identities holds as the person's slack identity.
    schema: "bronze",
    table: "stg_slack__users",
    sql: (t) => `select slack_user_id as user_key, unnest([slack_user_id, slack_handle, display_name, email]) as value from ${t}`,
  },
];

/**
 * Columns (and top-level payload keys of raw tables) that say whose row it is. A row whose value
 * in one of them is a forgotten identifier is that person's and is deleted; everywhere else
 * their identifiers are redacted out of the text.
 */
export const PERSON_FIELDS = [
  "user_key",
  "user_id",
  "identity",
  "author",
  "author_id",
  "author_name",
  "display_name",
  "real_name",
  "email",
  "telegram_name",
  "slack_user_id",
  "slack_handle",
  // raw.slack_users payloads: the user's id and handle.
  "id",
  "name",
  // raw.hubspot_contacts payloads: HubSpot's column header. (Calendar guests are one of several in
  // a meeting: their addresses and names are redacted out of it, the meeting is kept.)
  "Email",
];

/** Tables whose rows are derived from a message by its message_key (the annotation cache, embeddings): dropped with the message, or when its text was redacted, so that the next enrich redoes them from the redacted text. */
export const ENRICHMENT_SCHEMA = "enrichment";

/** Values that are nobody in particular and are never forgotten, even when an identity table lists them. */
const NOBODY = new Set(["", "system", "(system)"]);

/**
 * Every identifier of the person that `who` (a user id, user key, e-mail, Slack id or handle,
 * Telegram name) identifies, in the clear; empty when nobody has it. `shared` are theirs but also
 * someone else's (a first name), so they are not forgotten; a `who` that names several people is a
 * UserError. Matching is on the
 * normalised words (match.ts), so `Hiro.Rossi@X.example` finds `hiro.rossi@x.example`.
 */
export async function personIdentifiers(
  connection: DuckDBConnection,
  catalog: string,
  who: string,
): Promise<{ keys: string[]; values: string[]; shared: string[] }> {
  const present = new Set(
    (await connection.runAndReadAll("select schema_name || '.' || table_name from duckdb_tables() where database_name = $1", [catalog]))
      .getRows()
      .map((r) => String(r[0])),
  );
  const parts = PERSON_SOURCES.filter((s) => present.has(`${s.schema}.${s.table}`)).map((s) =>
    s.sql(quoteQualified(catalog, s.schema, s.table)),
  );
  if (parts.length === 0) return { keys: [], values: [], shared: [] };
  const pairs = `(${parts.join(" union all ")})`;
  // Two hops: the keys that hold `who`, then the keys that are values of those (a Slack id keys bronze's user rows and is an identity of the person's user_key); never keys that merely share a name.
  // A value another person also has (Priya Ali's Slack display name "Priya" is Priya Larsen's Telegram name) is nobody's in particular: it is left out, or forgetting one Priya would delete the other.
  // People are the keys that no other key of theirs lists: two of them mean `who` names several people.
  const reader = await connection.runAndReadAll(
    `with pairs as (select * from ${pairs} where value is not null),
     first_keys as (select distinct user_key from pairs where duckform_forget_norm(value) = duckform_forget_norm($1)),
     values_1 as (select value from pairs where user_key in (select user_key from first_keys)),
     keys as (select distinct user_key from pairs where user_key in (select user_key from first_keys) or user_key in (select value from values_1)),
     theirs as (select * from pairs where user_key in (select user_key from keys)),
     others as (select distinct duckform_forget_norm(value) as norm from pairs where user_key not in (select user_key from keys)),
     people as (select distinct user_key from theirs where user_key not in (select value from theirs t where t.user_key <> theirs.user_key))
     select list(distinct user_key) filter (where user_key in (select user_key from first_keys)),
            list(distinct value) filter (where duckform_forget_norm(value) not in (select norm from others)),
            list(distinct value) filter (where duckform_forget_norm(value) in (select norm from others)),
            (select list(user_key order by user_key) from people)
     from theirs`,
    [who],
  );
  const [keys, values, shared, people] = reader.getRows()[0] as ({ items: string[] } | null)[];
  const clean = (v: { items: string[] } | null) => (v?.items ?? []).map(String).filter((x) => !NOBODY.has(x.trim().toLowerCase()));
  if (clean(people).length > 1) {
    throw new UserError(
      `"${who}" names ${clean(people).length} people (${clean(people).slice(0, 5).join(", ")}${clean(people).length > 5 ? ", …" : ""}): give one of their user ids or e-mails; nothing was changed`,
    );
  }
  return { keys: clean(keys).sort(), values: clean(values).sort(), shared: clean(shared).sort() };
}

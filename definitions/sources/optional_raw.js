// Raw tables of the sources a deployment may not have: calendars, HubSpot and the product's
// PostgreSQL. Each is created empty when missing, with the columns the loaders' landing tables
// have (loaders/ledger.ts), so the warehouse builds before, or without, `duckform load calendar`,
// `load hubspot` or `load postgres`. A declaration would fail every run that lacks one of them.
const optional = [
  ["calendar_events", "One row per VEVENT landed from an iCalendar export, with its occurrences expanded up to the load's horizon."],
  ["hubspot_companies", "One row per record of a HubSpot companies export, keyed by HubSpot's column headers."],
  ["hubspot_contacts", "One row per record of a HubSpot contacts export, keyed by HubSpot's column headers."],
  ["hubspot_deals", "One row per record of a HubSpot deals export, keyed by HubSpot's column headers."],
  ["postgres_conversations", "One row per version of a product conversation read from PostgreSQL (row_to_json)."],
  ["postgres_messages", "One row per version of a product conversation message read from PostgreSQL."],
  ["postgres_service_jobs", "One row per version of a product service job read from PostgreSQL."],
  ["postgres_user_actions", "One row per version of a product user action read from PostgreSQL."],
];
for (const [name, description] of optional) {
  operate(name, { hasOutput: true, dataset: "raw", description, tags: ["sources"] }).queries(
    (ctx) => `create schema if not exists raw;
      create table if not exists ${ctx.self()} (payload json, _file varchar, _line bigint, _load_id varchar, _loaded_at timestamptz)`,
  );
}

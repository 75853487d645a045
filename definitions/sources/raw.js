// Raw tables landed by `duckform load …`: one JSON payload per row, with where it came from.
const raw = [
  ["events", "One row per product-event line landed from NDJSON."],
  ["telegram_messages", "One row per Telegram message (canonical JSON) from HTML or JSON exports."],
  ["slack_messages", "One row per Slack message (canonical JSON) from a workspace export."],
  ["slack_users", "One row per user in a Slack export's users.json."],
  ["slack_channels", "One row per channel, DM or group in a Slack export."],
  ["quarantine", "One row per line that could not land, with the reason."],
  ["load_ledger", "One row per landed file: hash, counts and status."],
];
for (const [name, description] of raw) {
  declare({ schema: "raw", name, description });
}

// Seeds loaded by `duckform seed` from seeds/*.csv.
const seeds = [
  ["users", "One row per known person, with the identities that link them across sources."],
  ["podcast_episodes", "One row per published episode."],
  [
    "company_mapping",
    "One row per spelling of a company's name, with its variant type, Slack channel, Telegram group and calendar domain.",
  ],
  ["message_categories", "One row per predefined message category."],
];
for (const [name, description] of seeds) {
  declare({ schema: "seeds", name, description });
}

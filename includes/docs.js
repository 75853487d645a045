// Column descriptions shared by many tables, so each column means one thing everywhere.
// A table's own description opens with its grain: "One row per …".

const columns = {
  user_key: "The person: a seed user_id where the identity is known, else a stable key generated from the source identity.",
  chat_key: "The chat or channel: source and source chat id, as one key.",
  message_key: "The message: source, chat and source message id, as one key.",
  event_id: "The product event's id as the app sent it.",
  episode_id: "The podcast episode, as in seeds.podcast_episodes.",
  company: "The company's canonical name from seeds.company_mapping; NULL when unknown.",
  source: "Where the row came from: telegram, slack or events.",
  sent_at: "When the message was sent, in UTC.",
  sent_date: "The UTC date the message was sent.",
  occurred_at: "When the event happened on the device, converted to UTC.",
  activity_date: "The UTC date of the activity.",
  session_id: "The conversation session: a stable key from source, chat and the session's first message.",
  _file: "The landed file (path inside its export for chat exports), for tracing a row back to its line.",
  _line: "The 1-based physical line (or message ordinal) in that file.",
  _load_id: "The load that landed the row.",
  _loaded_at: "When the row was landed.",
  validation_errors: "Codes of every rule the row breaks; empty when valid.",
  is_valid: "True when validation_errors is empty.",
};

// `columns` for a config block: the shared descriptions of the named columns, plus own ones.
function describe(names, own = {}) {
  const out = {};
  for (const name of names) out[name] = columns[name];
  return Object.assign(out, own);
}

module.exports = { columns, describe };

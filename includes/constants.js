// Project constants. Those that vary per run are read from dataform.json vars (override with
// `duckform run --vars name=value`); the rest are flat names shared by the definitions.

const vars = dataform.projectConfig.vars || {};

// A gap longer than this between two messages in one chat starts a new conversation session.
const SESSION_GAP_MINUTES = Number(vars.session_gap_minutes || 30);

// Reports look at the 7-day windows that end on this date (exclusive).
const END_DATE = vars.end_date || "2025-01-01";

// Product event types the app sends; anything else is `unknown_event_type`.
const EVENT_TYPES = ["play", "pause", "complete", "download", "share", "credit_limit_hit", "upgrade"];

// Events outside this range are `timestamp_out_of_range` (a device clock, not a real time).
const MIN_EVENT_AT = "2020-01-01";
const MAX_EVENT_AT = "2030-01-01";

// `pseudonymize: true` in duckform.yaml (the pipeline sets this var): names, handles and e-mails
// in silver and gold become keyed hashes (sql.pseudonym), the key from $DUCKFORM_PSEUDONYM_KEY.
const PSEUDONYMIZE = vars.pseudonymize === "true";

// The calendar dim_date covers.
const CALENDAR_START = "2020-01-01";
const CALENDAR_END = "2030-12-31";

// Meetings of recurring calendar events are expanded up to this date (exclusive); the loader
// lands occurrences up to its own --horizon (2031-01-01 by default), this var cuts them shorter.
const CALENDAR_HORIZON = vars.calendar_horizon || "2026-01-01";

// HubSpot deal stages that count as won.
const WON_DEAL_STAGES = ["closed won", "closedwon"];

module.exports = {
  SESSION_GAP_MINUTES,
  CALENDAR_HORIZON,
  WON_DEAL_STAGES,
  END_DATE,
  EVENT_TYPES,
  MIN_EVENT_AT,
  MAX_EVENT_AT,
  CALENDAR_START,
  CALENDAR_END,
  PSEUDONYMIZE,
};

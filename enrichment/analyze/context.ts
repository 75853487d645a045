import { createHash } from "node:crypto";
import type { DuckDBConnection } from "@duckdb/node-api";
import { UserError } from "../../runner/errors.ts";
import { quoteQualified } from "../../runner/quote.ts";
import type { Redactor } from "../redact.ts";
import type { AnalysisTables } from "../tables.ts";
import { METRICS } from "./insight.ts";

export type Metrics = Record<(typeof METRICS)[number], number>;

/** One message of a context: `id` is context-local (m1, m2 …), the only key a provider sees. */
export interface ContextMessage {
  id: string;
  messageKey: string;
  daysAgo: number;
  text: string;
  category: string | null;
  topics: string[];
}

/** Everything known about one person's day, before redaction. */
export interface UserDay {
  userKey: string;
  day: string;
  plan: string | null;
  consent: boolean;
  /** The sample's stratum: the person's latest segment, else their plan. */
  stratum: string;
  metrics: Metrics;
  listenedTopics: string[];
  messages: ContextMessage[];
  /** activity_drop, first_credit_limit_hit, churn_risk: reasons to analyse the person whatever the cap. */
  anomalies: string[];
  contentHash: string;
}

/** What leaves the process for one user-day: no user id, no message key, texts redacted. */
export interface WireContext {
  day: string;
  plan: string | null;
  metrics: Metrics;
  listened_topics: string[];
  messages: { id: string; days_ago: number; text: string; category: string | null; topics: string[] }[];
}

// Two weeks of messages are enough to read what someone is after; more makes prompts long for little.
const HISTORY_DAYS = 14;
const MAX_MESSAGES = 20;

/** The people active on `day` (product events or messages; system users left out), with their contexts. */
export async function loadUserDays(connection: DuckDBConnection, tables: AnalysisTables, day: string): Promise<UserDay[]> {
  await requireConsentColumn(connection, tables.seedUsers);
  const t = (name: keyof AnalysisTables) => quoteQualified(...tables[name]);
  const hasSegments = await hasRows(connection, tables.segments);
  const reader = await connection.runAndReadAll(
    `with
     params as (select ?::date as d),
     users as (
       select u.user_key, u.plan, coalesce(s.analysis_consent, false) as consent
       from ${t("users")} as u left join ${t("seedUsers")} as s on s.user_id = u.user_id
       where not coalesce(u.is_system, false)
     ),
     messages as (
       select m.message_key, m.user_key, m.sent_date, m.sent_at, m.text
       from ${t("messages")} as m, params
       where m.message_type = 'regular' and nullif(trim(m.text), '') is not null and m.sent_date between params.d - 27 and params.d
     ),
     events as (
       select e.user_key, e.activity_date, e.event_type, e.episode_id, e.credits_used
       from ${t("events")} as e, params where e.activity_date between params.d - 27 and params.d
     ),
     active as (
       select user_key from events, params where activity_date = params.d
       union select user_key from messages, params where sent_date = params.d
     ),
     annotations as (
       select message_key, category, topics from ${t("annotations")}
       qualify row_number() over (partition by message_key order by annotated_at desc, annotation_key desc) = 1
     ),
     day_events as (
       select e.user_key,
         count(*) as events,
         count(*) filter (where e.event_type = 'play') as plays,
         count(*) filter (where e.event_type = 'complete') as completes,
         count(distinct e.episode_id) as episodes,
         coalesce(sum(e.credits_used) filter (where e.event_type = 'play'), 0) as credits_used,
         count(*) filter (where e.event_type = 'credit_limit_hit') as credit_limit_hits,
         count(*) filter (where e.event_type = 'download') as downloads,
         count(*) filter (where e.event_type = 'share') as shares,
         list(distinct p.topic order by p.topic) filter (where p.topic is not null) as listened_topics,
       from events as e
       cross join params
       left join ${t("episodes")} as p on p.episode_id = e.episode_id
       where e.activity_date = params.d group by e.user_key
     ),
     days as (
       select user_key, activity_date as d from events union select user_key, sent_date from messages
     ),
     windows as (
       select days.user_key,
         count(*) filter (where days.d > params.d - 7) as active_days_7d,
         count(*) as active_days_28d,
       from days, params group by days.user_key
     ),
     trend as (
       select user_key,
         count(*) filter (where activity_date > params.d - 7) as events_7d,
         count(*) filter (where activity_date <= params.d - 7) as events_before,
       from events, params group by user_key
     ),
     first_hits as (
       select user_key, min(activity_date) as first_hit from ${t("events")}
       where event_type = 'credit_limit_hit' and user_key in (select user_key from active) group by user_key
     ),
     context_messages as (
       select m.user_key,
         count(*) as messages_28d,
         list({'message_key': m.message_key, 'days_ago': params.d - m.sent_date, 'text': m.text, 'category': a.category,
               'topics': coalesce(a.topics, [])} order by m.sent_at desc, m.message_key)
           filter (where m.sent_date > params.d - ${HISTORY_DAYS}) as messages,
       from messages as m
       cross join params
       left join annotations as a using (message_key)
       group by m.user_key
     ),
     strata as (
       ${
         hasSegments
           ? `select user_key, segment_label as stratum from ${t("segments")}, params where segmented_on <= params.d
              qualify row_number() over (partition by user_key order by segmented_on desc) = 1`
           : "select null::varchar as user_key, null::varchar as stratum where false"
       }
     )
     select active.user_key, strftime(params.d, '%Y-%m-%d') as day, users.plan, coalesce(users.consent, false) as consent,
       coalesce(strata.stratum, users.plan, 'unknown') as stratum,
       coalesce(day_events.events, 0) as events, coalesce(day_events.plays, 0) as plays, coalesce(day_events.completes, 0) as completes,
       coalesce(day_events.episodes, 0) as episodes, coalesce(day_events.credits_used, 0) as credits_used,
       coalesce(day_events.credit_limit_hits, 0) as credit_limit_hits, coalesce(day_events.downloads, 0) as downloads,
       coalesce(day_events.shares, 0) as shares, coalesce(windows.active_days_7d, 0) as active_days_7d,
       coalesce(windows.active_days_28d, 0) as active_days_28d, coalesce(context_messages.messages_28d, 0) as messages_28d,
       coalesce(day_events.listened_topics, []) as listened_topics, coalesce(context_messages.messages, []) as messages,
       coalesce(trend.events_7d, 0) as events_7d, coalesce(trend.events_before, 0) as events_before,
       first_hits.first_hit = params.d as is_first_hit,
     from active
     cross join params
     join users using (user_key)
     left join day_events using (user_key)
     left join windows using (user_key)
     left join trend using (user_key)
     left join first_hits using (user_key)
     left join context_messages using (user_key)
     left join strata using (user_key)
     order by active.user_key`,
    [day],
  );
  return reader.getRowObjectsJS().map((r) => userDay(r));
}

function userDay(r: Record<string, unknown>): UserDay {
  const metrics = Object.fromEntries(METRICS.map((m) => [m, Number(r[m] ?? 0)])) as Metrics;
  const raw = ((r.messages as Record<string, unknown>[] | null) ?? []).slice(0, MAX_MESSAGES);
  const messages: ContextMessage[] = raw.map((m, i) => ({
    id: `m${i + 1}`,
    messageKey: String(m.message_key),
    daysAgo: Number(m.days_ago),
    text: String(m.text),
    category: m.category == null ? null : String(m.category),
    topics: ((m.topics as string[] | null) ?? []).map(String),
  }));
  const anomalies: string[] = [];
  const before = Number(r.events_before);
  const recent = Number(r.events_7d);
  // Three weeks of at least two events a day on average, then under a third of that pace.
  if (before >= 42 && recent < (before / 3) * 0.33) anomalies.push("activity_drop");
  if (r.is_first_hit === true) anomalies.push("first_credit_limit_hit");
  if (messages.some((m) => m.category === "churn_risk")) anomalies.push("churn_risk");
  const listenedTopics = ((r.listened_topics as string[] | null) ?? []).map(String);
  const content = JSON.stringify({ metrics, listenedTopics, messages: messages.map((m) => [m.messageKey, m.daysAgo, m.text, m.category]) });
  return {
    userKey: String(r.user_key),
    day: String(r.day),
    plan: r.plan == null ? null : String(r.plan),
    consent: r.consent === true,
    stratum: String(r.stratum),
    metrics,
    listenedTopics,
    messages,
    anomalies,
    contentHash: createHash("sha256").update(content).digest("hex"),
  };
}

/** The context as a provider sees it; texts and topics redacted when it is remote. */
export function wireContext(day: UserDay, redact: Redactor | null): WireContext {
  const clean = (s: string) => (redact ? redact(s).text : s);
  return {
    day: day.day,
    plan: day.plan,
    metrics: day.metrics,
    listened_topics: day.listenedTopics,
    messages: day.messages.map((m) => ({
      id: m.id,
      days_ago: m.daysAgo,
      text: clean(m.text),
      category: m.category,
      topics: m.topics.map(clean),
    })),
  };
}

/** The latest day anyone did anything: what `analyze users` analyses without --date. */
export async function latestActiveDay(connection: DuckDBConnection, tables: AnalysisTables): Promise<string | null> {
  const reader = await connection.runAndReadAll(
    `select strftime(max(d), '%Y-%m-%d') from (
       select max(activity_date) as d from ${quoteQualified(...tables.events)}
       union all select max(sent_date) from ${quoteQualified(...tables.messages)} where message_type = 'regular')`,
  );
  const value = reader.getRows()[0]?.[0];
  return value == null ? null : String(value);
}

async function requireConsentColumn(connection: DuckDBConnection, [schema, name]: [string, string]): Promise<void> {
  const reader = await connection.runAndReadAll(
    `select count(*) from information_schema.columns
     where table_catalog = current_database() and table_schema = ? and table_name = ? and column_name = 'analysis_consent'`,
    [schema, name],
  );
  if (Number(reader.getRows()[0]?.[0] ?? 0) === 0)
    throw new UserError(
      `${schema}.${name} has no analysis_consent column: add it to seeds/${name}.csv (true for people who agreed to analysis) and run \`duckform seed\``,
    );
}

async function hasRows(connection: DuckDBConnection, table: [string, string]): Promise<boolean> {
  const reader = await connection.runAndReadAll(`select exists (select 1 from ${quoteQualified(...table)})`);
  return reader.getRows()[0]?.[0] === true;
}

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { openProjectDatabase } from "../../runner/project.ts";
import { quoteQualified } from "../../runner/quote.ts";
import { loadLexicon } from "../lexicon.ts";
import { createRedactor, hasPlaceholder, type Redactor } from "../redact.ts";
import { projectTables } from "../tables.ts";

export interface SummaryOptions {
  projectDir: string;
  database?: string;
  /** The day (default: the latest day analysed, else the latest day anyone was active). */
  date?: string;
  /** Where summary-<date>.md goes (default: beside the database, where the report is). */
  outDir?: string;
  /** A Slack-compatible incoming webhook: posted to only when the summary says something new. */
  webhook?: string;
}

export interface SummaryResult {
  /** Null when gold has no activity yet: nothing was written. */
  file: string | null;
  markdown: string;
  posted: boolean;
  note?: string;
}

/**
 * `duckform summary`: the day's product-market-fit summary as Markdown, from gold. Aggregates
 * only, counted over the 7 days to the date against the 7 before: what changed, top friction,
 * segments moving, credit exhaustion. No name, handle, e-mail or user id: the only text from
 * data is insight and segment labels, and a label naming a known person (or holding a
 * placeholder) is left out. The webhook gets it only when it differs from what was last
 * posted for that day (`summary-<date>.md.posted`).
 */
export async function writeSummary(options: SummaryOptions): Promise<SummaryResult> {
  const { tables: t, enrichment } = projectTables(options.projectDir, {
    insights: "fct_user_insights",
    activity: "fct_user_daily_activity",
    segments: "fct_user_segments",
  });
  const db = await openProjectDatabase({ project: options.projectDir, database: options.database, readOnly: true });
  let composed: { markdown: string; day: string } | null;
  try {
    composed = await db.withConnection(async (connection) => {
      const redact = createRedactor((await loadLexicon(connection, enrichment)).identities);
      return compose(connection, t, redact, options.date);
    });
  } finally {
    db.close();
  }
  if (!composed) return { file: null, markdown: "", posted: false, note: "nothing to summarize: gold has no activity yet" };
  const { markdown, day } = composed;
  const file = join(resolve(options.outDir ?? dirname(db.file)), `summary-${day}.md`);
  writeFileSync(file, markdown);
  if (!options.webhook) return { file, markdown, posted: false };
  // What was last posted for the day, so a summary that failed to post is posted by the next run.
  const posted = `${file}.posted`;
  if (existsSync(posted) && readFileSync(posted, "utf8") === markdown)
    return { file, markdown, posted: false, note: "nothing new since the last post: not posted" };
  const failure = await post(options.webhook, markdown);
  if (failure === null) writeFileSync(posted, markdown);
  return { file, markdown, posted: failure === null, note: failure ?? undefined };
}

type Tables = Record<"insights" | "activity" | "segments", [string, string]>;

async function compose(
  connection: DuckDBConnection,
  t: Tables,
  redact: Redactor,
  date?: string,
): Promise<{ markdown: string; day: string } | null> {
  const q = (k: keyof Tables) => quoteQualified(...t[k]);
  const one = async (sql: string, params: (string | number)[] = []) =>
    (await connection.runAndReadAll(sql, params)).getRowObjectsJS()[0] ?? {};
  const all = async (sql: string, params: (string | number)[] = []) => (await connection.runAndReadAll(sql, params)).getRowObjectsJS();
  const day =
    date ??
    ((
      await one(
        `select strftime(coalesce((select max(analysis_date) from ${q("insights")}), (select max(activity_date) from ${q("activity")})), '%Y-%m-%d') as d`,
      )
    ).d as string | null);
  if (!day) return null;

  const activity = await one(
    `select
       count(distinct user_key) filter (where activity_date > ?::date - 7) as active,
       count(distinct user_key) filter (where activity_date <= ?::date - 7) as active_before,
       count(distinct user_key) filter (where activity_date > ?::date - 7 and credit_limit_hits > 0) as exhausted,
       count(distinct user_key) filter (where activity_date <= ?::date - 7 and credit_limit_hits > 0) as exhausted_before,
       coalesce(sum(credit_limit_hits) filter (where activity_date > ?::date - 7), 0) as hits,
     from ${q("activity")} where activity_date > ?::date - 14 and activity_date <= ?::date`,
    [day, day, day, day, day, day, day],
  );
  const labels = await all(
    `select insight_type, label,
       count(distinct user_key) filter (where analysis_date > ?::date - 7) as people,
       count(distinct user_key) filter (where analysis_date <= ?::date - 7) as people_before,
     from ${q("insights")}
     where analysis_date > ?::date - 14 and analysis_date <= ?::date and insight_type in ('friction_point', 'use_case', 'pay_signal')
     group by all order by people desc, label`,
    [day, day, day, day],
  );
  const analysed = await one(
    `select count(distinct user_key) filter (where analysis_date > ?::date - 7) as people,
            count(distinct user_key) filter (where analysis_date > ?::date - 7 and insight_type = 'churn_risk' and label = 'high') as churn_high
     from ${q("insights")} where analysis_date > ?::date - 14 and analysis_date <= ?::date`,
    [day, day, day, day],
  );
  const segments = await all(
    `with runs as (select distinct segmented_on from ${q("segments")} where segmented_on <= ?::date order by segmented_on desc limit 2),
     latest as (select * from ${q("segments")} where segmented_on = (select max(segmented_on) from runs))
     select segment_label as label, count(*) as people,
       count(*) filter (where previous_segment_label is not null and previous_segment_label <> segment_label) as moved_in
     from latest group by all order by people desc, label`,
    [day],
  );

  const safe = (label: unknown) => {
    const text = String(label);
    return !hasPlaceholder(text) && redact(text).text === text;
  };
  const n = (v: unknown) => Number(v ?? 0);
  const ppl = (v: unknown) => `${n(v)} ${n(v) === 1 ? "person" : "people"}`;
  const change = (now: unknown, before: unknown) => {
    const d = n(now) - n(before);
    return d === 0 ? "unchanged" : `${d > 0 ? "+" : ""}${d} vs the 7 days before`;
  };
  const top = (type: string) =>
    labels
      .filter((l) => l.insight_type === type && n(l.people) > 0 && safe(l.label))
      .slice(0, 5)
      .map(
        (l) => `- ${String(l.label)}: ${ppl(l.people)}${n(l.people_before) === 0 ? " (new)" : ` (${change(l.people, l.people_before)})`}`,
      );
  const friction = top("friction_point");
  const useCases = top("use_case");
  const lines = [
    `# Product-market fit summary, 7 days to ${day}`,
    "",
    "Aggregates only: counts of people, never who.",
    "",
    "## What changed",
    `- Active people: ${n(activity.active)} (${change(activity.active, activity.active_before)})`,
    `- Analysed (with consent): ${n(analysed.people)}; high churn risk: ${n(analysed.churn_high)}`,
    "",
    "## Top friction",
    ...(friction.length ? friction : ["- none found"]),
    "",
    "## Top use cases",
    ...(useCases.length ? useCases : ["- none found"]),
    "",
    "## Credit exhaustion",
    `- People who hit their credit limit: ${n(activity.exhausted)} (${change(activity.exhausted, activity.exhausted_before)}), ${n(activity.hits)} hits`,
    "",
    "## Segments",
    ...(segments.length
      ? segments
          .filter((s) => safe(s.label))
          .map((s) => `- ${String(s.label)}: ${ppl(s.people)}${n(s.moved_in) > 0 ? `, ${n(s.moved_in)} moved in` : ""}`)
      : ["- not segmented yet"]),
    "",
  ];
  return { markdown: lines.join("\n"), day };
}

/** Posts `{"text": …}`; a 5xx, 429 or network error is tried 3 times. Returns why it failed, or null. */
async function post(url: string, text: string): Promise<string | null> {
  let reason = "";
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text }),
        signal: AbortSignal.timeout(10_000),
      });
      if (response.ok) return null;
      reason = `HTTP ${response.status}`;
      if (response.status < 500 && response.status !== 429) break;
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
    }
    if (attempt < 3) await new Promise((r) => setTimeout(r, 500 * 2 ** (attempt - 1)));
  }
  return `not posted to the webhook: ${reason}`;
}

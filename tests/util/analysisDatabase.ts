import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { AnalyzeOptions } from "../../enrichment/analyze/analyze.ts";
import { people, type Person } from "../../loaders/sample/world.ts";
import { Database } from "../../runner/database.ts";
import { runProject } from "../../runner/run.ts";
import { writeEnrichmentDatabase, type TestMessage } from "./enrichmentDatabase.ts";

const REPO = resolve(import.meta.dirname, "..", "..");

/** The operations that create the tables `duckform analyze users` writes, empty. */
const ANALYSIS_ACTIONS = ["user_insights", "user_insight_dead_letters", "user_analysis_runs", "user_segments", "segment_labels"];

export interface TestEvent {
  user_key: string;
  event_type: "play" | "pause" | "complete" | "download" | "share" | "credit_limit_hit";
  activity_date: string;
  episode_id?: string;
  credits_used?: number;
}

/**
 * A temp database with what `analyze users` reads: the repo's seeds (users with analysis_consent),
 * every sample person in silver.int_users (so the redactor knows them all, as in a real warehouse),
 * the given messages and product events, and enrichment's and analysis' own tables, empty.
 */
export async function writeAnalysisDatabase(
  file: string,
  messages: TestMessage[],
  events: TestEvent[],
  options: { syntheticUsers?: number } = {},
): Promise<string> {
  const everyone = people().map((p) => ({
    user_key: p.userId,
    user_id: p.userId,
    display_name: p.displayName,
    email: p.email,
    telegram_name: p.telegramName,
    slack_user_id: p.slackUserId,
    company: p.canonicalCompany,
  }));
  await writeEnrichmentDatabase(file, REPO, messages, everyone);
  const db = await Database.open(file, "duckform");
  try {
    await db.withConnection(async (c) => {
      await c.run("alter table silver.int_users add column plan varchar");
      await c.run("alter table silver.int_users add column is_system boolean default false");
      await c.run("update silver.int_users set plan = s.plan from seeds.users as s where s.user_id = int_users.user_id");
      // Consenting people beyond the sample's 300, for benchmarks: bench_0001 …, no names.
      if (options.syntheticUsers) {
        await c.run(
          `insert into seeds.users (user_id, plan, analysis_consent) select printf('bench_%04d', i), 'plus', true from range(1, ? + 1) as t(i)`,
          [options.syntheticUsers],
        );
        await c.run(
          `insert into silver.int_users (user_key, user_id, display_name, plan, is_system)
           select user_id, user_id, user_id, plan, false from seeds.users where user_id like 'bench_%'`,
        );
      }
      await c.run(`create table silver.int_events__deduplicated (event_id varchar, user_key varchar, event_type varchar, activity_date date,
        episode_id varchar, credits_used integer)`);
      await c.run(
        `insert into silver.int_events__deduplicated
         select 'e' || row_number() over (), user_key, event_type, activity_date::date, episode_id, credits_used
         from (select unnest(from_json(?::json, '[{"user_key":"VARCHAR","event_type":"VARCHAR","activity_date":"VARCHAR","episode_id":"VARCHAR","credits_used":"INTEGER"}]'), recursive := true))`,
        [JSON.stringify(events)],
      );
    });
  } finally {
    db.close();
  }
  const scratch = mkdtempSync(join(tmpdir(), "duckform-analyze-run-"));
  try {
    const run = await runProject(REPO, {
      database: file,
      actions: ANALYSIS_ACTIONS,
      resultsFile: join(scratch, "run_results.json"),
      concurrency: 1,
    });
    const failed = run.actions.find((a) => a.status !== "success");
    if (failed) throw new Error(`could not create the analysis tables: ${failed.name} ${failed.status}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return file;
}

/** The sample's people, split by consent. */
export function samplePeople(): { consenting: Person[]; declining: Person[]; all: Person[] } {
  const all = people().filter((p) => !p.isInternal);
  return { consenting: all.filter((p) => p.analysisConsent), declining: all.filter((p) => !p.analysisConsent), all: people() };
}

/** `analyze users` of the repo's project on `file` through the mock OpenAI server at `url`, with short retries. */
export function mockAnalyzeOptions(file: string, url: string, date: string, extra: Partial<AnalyzeOptions> = {}): AnalyzeOptions {
  return {
    projectDir: REPO,
    database: file,
    provider: { name: "openai", model: "mock-model", baseURL: url, apiKey: "test", timeoutMs: 5_000 },
    date,
    concurrency: 4,
    retry: { retries: 2, minDelayMs: 10, maxDelayMs: 50 },
    ...extra,
  };
}

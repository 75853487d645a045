import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "../../runner/database.ts";
import { runProject } from "../../runner/run.ts";
import { loadSeeds } from "../../loaders/seeds/load.ts";

/** The operations in definitions/enrichment/ that create enrichment's own tables, empty. */
export const ENRICHMENT_ACTIONS = ["message_annotations", "annotation_dead_letters", "enrichment_runs", "message_embeddings"];

export interface TestMessage {
  message_key: string;
  text: string;
  user_key?: string;
  chat_key?: string;
  chat_name?: string;
  sent_at?: string;
  message_type?: "regular" | "service";
}

export interface TestUser {
  user_key: string;
  user_id: string | null;
  display_name: string | null;
  email: string | null;
  telegram_name: string | null;
  slack_user_id: string | null;
  company?: string | null;
}

/**
 * Writes a database file with the project's seeds, the two silver tables enrichment reads,
 * built from the given rows with the columns of the definitions' contract, and enrichment's own
 * tables as `duckform run` creates them, so enrichment can be tested and benchmarked without
 * landing and running the whole warehouse. Nothing stays open.
 */
export async function writeEnrichmentDatabase(
  file: string,
  projectDir: string,
  messages: TestMessage[],
  users: TestUser[] = [],
): Promise<string> {
  const db = await Database.open(file, "duckform");
  try {
    await loadSeeds(db, projectDir);
    await db.withConnection(async (c) => {
      await c.run("create schema silver");
      await c.run(`create table silver.int_users (user_key varchar, user_id varchar, display_name varchar, email varchar,
        telegram_name varchar, slack_user_id varchar, company varchar)`);
      await c.run(`create table silver.int_messages (message_key varchar, source varchar, chat_key varchar, chat_name varchar,
        message_id varchar, user_key varchar, author_name varchar, sent_at timestamp, sent_date date, text varchar,
        message_type varchar, is_reply boolean, has_media boolean, _loaded_at timestamptz)`);
      await c.run(
        `insert into silver.int_users
         select * from (select unnest(from_json(?::json, '[{"user_key":"VARCHAR","user_id":"VARCHAR","display_name":"VARCHAR","email":"VARCHAR","telegram_name":"VARCHAR","slack_user_id":"VARCHAR","company":"VARCHAR"}]'), recursive := true))`,
        [JSON.stringify(users.map((u) => ({ company: null, ...u })))],
      );
      const rows = messages.map((m, i) => ({
        message_key: m.message_key,
        source: "telegram",
        chat_key: m.chat_key ?? "telegram:chat-1",
        chat_name: m.chat_name ?? "Test chat",
        message_id: String(i + 1),
        user_key: m.user_key ?? "u1",
        author_name: "Someone",
        sent_at: m.sent_at ?? new Date(Date.UTC(2024, 0, 1 + (i % 28), 9, i % 60)).toISOString(),
        text: m.text,
        message_type: m.message_type ?? "regular",
      }));
      await c.run(
        `insert into silver.int_messages
         select message_key, source, chat_key, chat_name, message_id, user_key, author_name, sent_at::timestamp, sent_at::timestamp::date,
                text, message_type, false, false, now()
         from (select unnest(from_json(?::json, '[{"message_key":"VARCHAR","source":"VARCHAR","chat_key":"VARCHAR","chat_name":"VARCHAR","message_id":"VARCHAR","user_key":"VARCHAR","author_name":"VARCHAR","sent_at":"VARCHAR","text":"VARCHAR","message_type":"VARCHAR"}]'), recursive := true))`,
        [JSON.stringify(rows)],
      );
    });
  } finally {
    db.close();
  }
  await createEnrichmentTables(projectDir, file);
  return file;
}

/** Runs enrichment's operations on `database`, as `duckform run` would; the file must not be open here. */
export async function createEnrichmentTables(projectDir: string, database: string): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), "duckform-enrich-"));
  try {
    const run = await runProject(projectDir, {
      database,
      actions: ENRICHMENT_ACTIONS,
      resultsFile: join(scratch, "run_results.json"),
      concurrency: 1,
    });
    const failed = run.actions.find((a) => a.status !== "success");
    if (failed)
      throw new Error(
        `could not create enrichment's tables: ${failed.name} ${failed.status}${failed.error ? `: ${failed.error.message}` : ""}`,
      );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const PHRASES = [
  "The app crashes when I skip back on the new episode",
  "Would love a sleep timer that stops at the end of an episode",
  "Hit my credit limit again halfway through the month",
  "How do I move my queue to a new phone?",
  "Offline downloads are perfect for flights, thank you",
  "We may cancel the team plan next quarter, not worth it for us yet",
  "Just got the invite, how do I set up my account?",
  "Recommend Signal & Noise to anyone who commutes",
];

/** `n` messages with distinct texts (a counter makes each unique), from a few realistic phrases. */
export function distinctMessages(n: number, prefix = "m"): TestMessage[] {
  return Array.from({ length: n }, (_, i) => ({
    message_key: `telegram:chat-1:${prefix}${i + 1}`,
    text: `${PHRASES[i % PHRASES.length]} (#${i + 1})`,
  }));
}

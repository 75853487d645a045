import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadNdjson } from "../../loaders/ndjson/load.ts";
import { generateSample, type SampleOptions } from "../../loaders/sample/generate.ts";
import { loadSeeds } from "../../loaders/seeds/load.ts";
import { loadSlack } from "../../loaders/slack/load.ts";
import { loadTelegram } from "../../loaders/telegram/load.ts";
import { Database } from "../../runner/database.ts";
import { runProject } from "../../runner/run.ts";
import { sqlRows } from "../util/project.ts";
import { tempDir } from "../util/tmp.ts";

const REPO = resolve(import.meta.dirname, "..", "..");
const CATALOG = "duckform";
/** Chats that span the first months of 2024, so that an export taken mid-February lacks each one's last messages. */
const CHATS: Partial<SampleOptions> = { seed: 5, events: 60, slackMessages: 120, telegramChats: 1, telegramMessagesPerChat: 160 };
const GOLD = ["fct_messages", "dim_chats", "dim_users", "fct_sessions", "fct_user_daily_activity"];
/** Where and when a row landed, and how often: not what the warehouse says. */
const PROVENANCE = new Set(["_loaded_at", "_file", "_line", "_load_id", "copies_seen"]);

async function sample(options: Partial<SampleOptions>): Promise<string> {
  const dir = tempDir("duckform-exports-");
  await generateSample(dir, { ...CHATS, ...options });
  return dir;
}

/** Lands what `exports` say into `file` (seeds and events once), each followed by a run, as a user would. */
async function landAndRun(file: string, exports: { telegram?: string; slack?: string; workspace?: string }[], events: string) {
  for (const [i, e] of exports.entries()) {
    const db = await Database.open(file, CATALOG);
    try {
      if (i === 0) {
        await loadSeeds(db, REPO);
        await loadNdjson(db, [events], { table: "events" });
      }
      if (e.telegram) await loadTelegram(db, [e.telegram], { threads: 0 });
      if (e.slack) await loadSlack(db, e.slack, { workspace: e.workspace });
    } finally {
      db.close();
    }
    const run = await runProject(REPO, { database: file, resultsFile: join(tempDir(), "run_results.json"), concurrency: 2 });
    expect(run.actions.filter((a) => a.status !== "success").map((a) => [a.name, a.error?.message])).toEqual([]);
  }
}

/** Every row of a gold table without its provenance columns, in a fixed order. */
async function goldRows(file: string, table: string): Promise<string[]> {
  const columns = await sqlRows(
    file,
    `select column_name from information_schema.columns where table_schema = 'gold' and table_name = '${table}' order by ordinal_position`,
    CATALOG,
  );
  const kept = columns.map((c) => String(c.column_name)).filter((c) => !PROVENANCE.has(c));
  const rows = await sqlRows(file, `select ${kept.map((c) => `"${c}"`).join(", ")} from gold.${table}`, CATALOG);
  return rows.map((r) => JSON.stringify(r, (_, v) => (typeof v === "bigint" ? String(v) : v))).sort();
}

async function expectSameGold(actual: string, expected: string): Promise<void> {
  for (const table of GOLD) {
    const [got, want] = [await goldRows(actual, table), await goldRows(expected, table)];
    expect(got.length, table).toBeGreaterThan(0);
    expect(got, table).toEqual(want);
  }
}

describe("a re-export of the same chats", () => {
  for (const format of ["html", "json"] as const) {
    it(`in ${format}, loaded into a new folder after an older one, gives the gold of the newer export alone, row for row`, async () => {
      const older = await sample({ exportedAt: "2024-02-15", telegramFormat: format });
      const newer = await sample({ telegramFormat: format });
      const events = join(newer, "events");

      const reexported = join(tempDir(), "duckform.duckdb");
      await landAndRun(
        reexported,
        [
          { telegram: join(older, "telegram"), slack: join(older, "slack") },
          { telegram: join(newer, "telegram"), slack: join(newer, "slack") },
        ],
        events,
      );
      const clean = join(tempDir(), "duckform.duckdb");
      await landAndRun(clean, [{ telegram: join(newer, "telegram"), slack: join(newer, "slack") }], events);

      // The older export really was older: fewer messages landed from it than the newer one has.
      const [counts] = await sqlRows(
        reexported,
        "select count(*) filter (where copies_seen = 1)::int as newer_only from silver.int_messages",
        CATALOG,
      );
      expect(counts!.newer_only).toBeGreaterThan(0);
      await expectSameGold(reexported, clean);
    }, 180_000);
  }
});

describe("exports that share folder names", () => {
  it("two Slack workspaces and two Telegram accounts land completely into one database, and again add nothing", async () => {
    const first = await sample({ seed: 11 });
    const second = await sample({ seed: 12 });
    const file = join(tempDir(), "duckform.duckdb");
    const db = await Database.open(file, CATALOG);
    try {
      const loadAll = async () => [
        ...(await loadSlack(db, join(first, "slack"), { workspace: "acme" })),
        ...(await loadSlack(db, join(second, "slack"), { workspace: "globex" })),
        // Both accounts' exports hold chats/chat_1/messages.html and chats/group_01/messages.html.
        ...(await loadTelegram(db, [join(first, "telegram")], { threads: 0 })).results,
        ...(await loadTelegram(db, [join(second, "telegram")], { threads: 0 })).results,
      ];
      const landed = await loadAll();
      expect(landed.filter((r) => r.status !== "landed").map((r) => [r.fileName, r.status, r.error])).toEqual([]);
      const [raw] = await sqlRowsOf(db);
      const again = await loadAll();
      expect(again.every((r) => r.status === "skipped")).toBe(true);
      expect(await sqlRowsOf(db)).toEqual([raw]);
      await loadSeeds(db, REPO);
      await loadNdjson(db, [join(first, "events")], { table: "events" });
    } finally {
      db.close();
    }
    const run = await runProject(REPO, { database: file, resultsFile: join(tempDir(), "run_results.json"), concurrency: 2 });
    expect(run.actions.filter((a) => a.status !== "success").map((a) => a.name)).toEqual([]);
    // Each workspace's messages, users and channels are its own: nothing merged, nothing lost.
    const perWorkspace = await sqlRows(
      file,
      `select split_part(split_part(chat_key, ':', 2), '/', 1) as workspace, count(*)::int as messages, count(distinct chat_key)::int as channels
       from silver.int_messages where source = 'slack' group by 1 order by 1`,
      CATALOG,
    );
    const landedPerWorkspace = await sqlRows(
      file,
      `select split_part(_file, '/', 1) as workspace, count(*)::int as messages from raw.slack_messages group by 1 order by 1`,
      CATALOG,
    );
    expect(perWorkspace.map((r) => [r.workspace, r.messages])).toEqual(landedPerWorkspace.map((r) => [r.workspace, r.messages]));
    expect(
      await sqlRows(
        file,
        "select count(*)::int as n from silver.int_messages where source = 'slack' and author_name is null and message_type = 'regular'",
        CATALOG,
      ),
    ).toEqual([{ n: 0 }]);
  }, 180_000);
});

async function sqlRowsOf(db: Database): Promise<Record<string, unknown>[]> {
  const reader = await db.withConnection((c) =>
    c.runAndReadAll(
      "select (select count(*) from raw.slack_messages)::int as slack, (select count(*) from raw.slack_users)::int as users, (select count(*) from raw.telegram_messages)::int as telegram",
    ),
  );
  return reader.getRowObjectsJS() as Record<string, unknown>[];
}

import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { enrich, search } from "../../enrichment/enrich.ts";
import { startMockOpenai } from "../util/mockOpenai.ts";
import { loadNdjson } from "../../loaders/ndjson/load.ts";
import { loadSeeds } from "../../loaders/seeds/load.ts";
import { loadSlack } from "../../loaders/slack/load.ts";
import { loadTelegram } from "../../loaders/telegram/load.ts";
import { Database } from "../../runner/database.ts";
import { runProject } from "../../runner/run.ts";
import { duckform } from "../util/cli.ts";
import { distinctMessages, enrichmentDatabase, REPO } from "../util/enrichment.ts";
import { sqlRows } from "../util/project.ts";
import { tinySample } from "../util/sample.ts";
import { tempDir } from "../util/tmp.ts";

const rows = (file: string, sql: string) => sqlRows(file, sql, "duckform");
const ENRICHMENT_GOLD = ["bdg_message_topics", "bdg_message_entities", "dim_topics", "dim_entities", "fct_daily_topics", "fct_messages"];

let sampleDir: string;
beforeAll(async () => {
  ({ dir: sampleDir } = await tinySample());
});

async function landedChats(): Promise<string> {
  const file = join(tempDir(), "duckform.duckdb");
  const db = await Database.open(file, "duckform");
  try {
    await loadSeeds(db, REPO);
    await loadTelegram(db, [join(sampleDir, "telegram")], { threads: 0 });
    await loadSlack(db, join(sampleDir, "slack"));
    // Users are resolved across chats and product events, so the events land too.
    await loadNdjson(db, [join(sampleDir, "events")], { table: "events" });
  } finally {
    db.close();
  }
  return file;
}

const build = (file: string) =>
  runProject(REPO, {
    database: file,
    actions: ENRICHMENT_GOLD,
    tags: ["enrichment"],
    includeDependencies: true,
    resultsFile: join(tempDir(), "run_results.json"),
    concurrency: 2,
  });

describe("enrichment in the pipeline, on the local provider", () => {
  it("builds the topic and entity dimensions with every assertion passing, with no network", async () => {
    const file = await landedChats();
    // Before any enrichment the tables exist, empty, and everything builds.
    const before = await build(file);
    expect(before.actions.filter((a) => a.status !== "success")).toEqual([]);
    expect(await rows(file, "select count(*) as n from gold.dim_topics")).toEqual([{ n: 0 }]);

    const fetchSpy = vi.spyOn(globalThis, "fetch");
    try {
      const result = await enrich({ projectDir: REPO, database: file, provider: { name: "local" }, embeddings: true });
      expect(fetchSpy).not.toHaveBeenCalled();
      const [annotate, embed] = result.tasks;
      expect(annotate).toMatchObject({
        status: "complete",
        provider: "local",
        messagesDeadLettered: 0,
        messagesLeft: 0,
        requests: expect.any(Number),
      });
      expect(annotate!.messagesDone).toBe(annotate!.messagesPending);
      expect(embed).toMatchObject({ status: "complete", model: "local-hash-256-v1", messagesLeft: 0 });
    } finally {
      fetchSpy.mockRestore();
    }

    const after = await build(file);
    expect(after.actions.filter((a) => a.status !== "success")).toEqual([]);
    const ran = after.actions.map((a) => a.name);
    for (const assertion of [
      "topic_bridge_without_message",
      "entity_bridge_without_entity",
      "daily_topics_disagree_with_bridge",
      "categories_outside_seed",
    ]) {
      expect(ran).toContain(`duckform.quality.${assertion}`);
    }
    const [counts] = await rows(
      file,
      `select (select count(*) from gold.dim_topics) as topics,
              (select count(*) from gold.dim_entities) as entities,
              (select count(*) from gold.fct_daily_topics) as topic_days,
              (select count(*) from silver.int_messages as m left join gold.fct_messages as f using (message_key)
                where m.message_type = 'regular' and nullif(trim(m.text), '') is not null and f.category is null) as uncategorized,
              (select count(*) from gold.fct_messages where category is not null) as categorized`,
    );
    expect(counts).toMatchObject({ uncategorized: 0 });
    for (const n of [counts!.topics, counts!.entities, counts!.topic_days, counts!.categorized]) expect(n).toBeGreaterThan(0);
    // The sample's chatter names shows and platforms from the seeds; they come out as typed entities.
    const types = await rows(file, "select distinct entity_type from gold.dim_entities order by 1");
    expect(types.map((t) => t.entity_type)).toEqual(expect.arrayContaining(["media"]));
    const [topic] = await rows(
      file,
      "select topic, message_count, first_seen_at <= last_seen_at as ordered from gold.dim_topics order by message_count desc, topic limit 1",
    );
    expect(topic).toMatchObject({ ordered: true });

    // A second enrich has nothing to do.
    const again = await enrich({ projectDir: REPO, database: file, provider: { name: "local" }, embeddings: true });
    expect(again.tasks.map((t) => [t.messagesPending, t.requests])).toEqual([
      [0, 0],
      [0, 0],
    ]);

    // Semantic search finds a message about what was asked.
    const hits = await search({ projectDir: REPO, database: file, provider: { name: "local" }, query: "app crashes", limit: 5 });
    expect(hits).toHaveLength(5);
    expect(hits[0]!.text.toLowerCase()).toMatch(/crash/);
    expect(hits[0]!.similarity).toBeGreaterThan(hits[4]!.similarity - 1e-9);
  });

  it("runs as `duckform run`, `duckform enrich`, `duckform run` and `duckform search`, and tells what it did", async () => {
    const file = await landedChats();
    const first = await duckform(["run", "--database", file]);
    expect(first.stdout).toMatch(/^Run succeeded in .*, 0 failed, 0 skipped/m);
    const done = await duckform(["enrich", "--database", file, "--embeddings"]);
    expect(done).toMatchObject({ code: 0, stderr: "" });
    expect(done.stdout).toMatch(
      /^enrich: annotate \[local local-rules-v\d+\+compromise-[\d.]+\]; (\d+) annotated, 0 reused, 0 dead-lettered, 0 left of \1 pending/m,
    );
    expect(done.stdout).toMatch(/^enrich: embed \[local local-hash-256-v1\]/m);
    const second = await duckform(["run", "--database", file]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^Assertion passed: duckform\.quality\.topic_bridge_without_message/m);
    expect(second.stdout).toMatch(/^Run succeeded in .*, 0 failed, 0 skipped/m);
    expect(await rows(file, "select count(*) > 0 as built from gold.dim_entities")).toEqual([{ built: true }]);
    const found = await duckform(["search", "--database", file, "--limit", "3", "credit limit"]);
    expect(found.code).toBe(0);
    expect(found.stdout.trim().split("\n")).toHaveLength(3);
    expect(found.stdout.split("\n")[0]).toMatch(/^0\.\d{3} .*credit/i);
  });

  it("says so when the provider is down, and still exits 0 so that the pipeline goes on", async () => {
    const file = await enrichmentDatabase(distinctMessages(6));
    // A port that was just listened on and closed: the connection is refused at once.
    const server = await startMockOpenai();
    await server.close();
    const down = await duckform(["enrich", "--database", file, "--provider", "openai", "--base-url", server.url, "--retries", "0"]);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(
      /^enrich: annotate \[openai gpt-4o-mini\]; 0 annotated, 0 reused, 0 dead-lettered, 6 left of 6 pending;.* — provider unavailable$/m,
    );
    expect(down.stderr).toMatch(
      /^duckform: openai unavailable: connection failed: ECONNREFUSED\. 6 messages were not annotated and stay pending/,
    );
    expect(down.stderr).toContain("`duckform run` still builds every table");
  });

  it("tells the user to run `duckform run` when enrichment's tables are missing, and changes nothing", async () => {
    const file = await enrichmentDatabase(distinctMessages(3));
    const db = await Database.open(file, "duckform");
    try {
      await db.withConnection((c) => c.run("drop table enrichment.message_annotations"));
    } finally {
      db.close();
    }
    const out = await duckform(["enrich", "--database", file]);
    expect(out).toMatchObject({
      code: 1,
      stderr: "duckform: enrichment.message_annotations does not exist: build it first with `duckform run`\n",
    });
    expect(await rows(file, "select count(*) as n from enrichment.enrichment_runs")).toEqual([{ n: 0 }]);
    expect(await rows(file, "select count(*) as n from information_schema.tables where table_name = 'message_annotations'")).toEqual([
      { n: 0 },
    ]);
  });
});

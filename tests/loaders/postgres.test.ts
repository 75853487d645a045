import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadPostgres } from "../../loaders/postgres/load.ts";
import { duckform } from "../util/cli.ts";
import { startPostgres, type TestPostgres } from "../util/postgres.ts";
import { queryRows, tempDatabase, tempDir } from "../util/tmp.ts";

/** Product rows: ten messages per conversation share each updated_at, so batches split ties. */
async function fillProduct(pg: TestPostgres["pg"], conversations: number): Promise<void> {
  await pg.exec(`
    insert into conversations
      select md5('c' || g)::uuid, 'user_' || lpad((g % 30 + 1)::text, 4, '0'), 'Conversation ' || g,
             '2024-03-01'::timestamptz + g * interval '1 minute', '2024-03-01'::timestamptz + g * interval '1 minute'
      from generate_series(1, ${conversations}) g;
    insert into messages
      select md5('m' || g)::uuid, md5('c' || (g / 10 + 1))::uuid, case when g % 2 = 0 then 'user' else 'assistant' end,
             'message ' || g, g % 500, '2024-03-01'::timestamptz + (g / 10) * interval '1 minute',
             '2024-03-01'::timestamptz + (g / 10) * interval '1 minute' + interval '123456 microseconds'
      from generate_series(0, ${conversations * 10 - 1}) g;
    insert into service_jobs
      select md5('j' || g)::uuid, md5('c' || g)::uuid, 'user_0001', 'transcribe', 'done', 12.50,
             '2024-03-02'::timestamptz, '2024-03-02'::timestamptz + g * interval '1 second'
      from generate_series(1, ${Math.ceil(conversations / 2)}) g;
    insert into user_actions
      select md5('a' || g)::uuid, 'user_0002', 'download', jsonb_build_object('media_id', 'ep_' || g),
             '2024-03-03'::timestamp + g * interval '1 second'
      from generate_series(1, ${conversations}) g;
  `);
}

async function rawCounts(
  db: Awaited<ReturnType<typeof tempDatabase>>,
  tables = ["conversations", "messages", "service_jobs", "user_actions"],
) {
  return queryRows(
    db,
    tables
      .map((t) => `select '${t}' as t, count(*)::int as n, count(distinct payload ->> 'id')::int as ids from raw.postgres_${t}`)
      .join(" union all ") + " order by t",
  );
}

describe("loadPostgres", () => {
  it("lands seed 002's tables, then after inserts and updates exactly the new and changed rows, then nothing", async () => {
    const server = await startPostgres();
    await fillProduct(server.pg, 40);
    const db = await tempDatabase();
    const first = await loadPostgres(db, { url: server.url, batchRows: 64 });
    expect(first.every((r) => r.status === "landed")).toBe(true);
    // 400 messages in batches of 64: 7 batches, each its own ledger entry.
    expect(first.filter((r) => r.table === "postgres_messages").map((r) => r.rowsLanded)).toEqual([64, 64, 64, 64, 64, 64, 16]);
    expect(await rawCounts(db)).toEqual([
      { t: "conversations", n: 40, ids: 40 },
      { t: "messages", n: 400, ids: 400 },
      { t: "service_jobs", n: 20, ids: 20 },
      { t: "user_actions", n: 40, ids: 40 },
    ]);
    const [job] = await queryRows(
      db,
      "select payload ->> 'credits' as credits, payload ->> 'updated_at' as at from raw.postgres_service_jobs limit 1",
    );
    expect(job).toEqual({ credits: "12.5", at: "2024-03-02T00:00:01+00:00" });

    await server.pg.exec(`
      insert into messages
        select md5('new' || g)::uuid, md5('c1')::uuid, 'user', 'late ' || g, 1, now(), '2024-03-01'::timestamptz + interval '40 minutes 123456 microseconds'
        from generate_series(1, 5) g;
      update messages set content = 'edited', updated_at = '2024-06-01T00:00:00Z' where id in (md5('m3')::uuid, md5('m4')::uuid, md5('m250')::uuid);
      insert into user_actions values (md5('a-new-1')::uuid, 'user_0003', 'share', '{}', '2024-06-01 00:00:00'), (md5('a-new-2')::uuid, 'user_0003', 'share', '{}', '2024-06-01 00:00:00');
    `);
    const second = await loadPostgres(db, { url: server.url, batchRows: 64 });
    expect(second.map((r) => [r.table, r.rowsLanded])).toEqual([
      ["postgres_messages", 8],
      ["postgres_user_actions", 2],
    ]);
    const [secondLoad] = await queryRows(db, `select _load_id from raw.postgres_messages where payload ->> 'content' = 'edited' limit 1`);
    const changed = await queryRows(
      db,
      `select payload ->> 'content' as content from raw.postgres_messages where _load_id = '${secondLoad!._load_id}' order by 1`,
    );
    expect(changed.map((r) => r.content)).toEqual(["edited", "edited", "edited", "late 1", "late 2", "late 3", "late 4", "late 5"]);
    expect(await loadPostgres(db, { url: server.url, batchRows: 64 })).toEqual([]);
  }, 60_000);

  it("resumes after a connection dropped mid-COPY from the last committed batch, with nothing lost or doubled", async () => {
    const server = await startPostgres();
    await fillProduct(server.pg, 2_000);
    const db = await tempDatabase();
    // About 6,000 of the 20,000 messages' rows, ~160 bytes each: the cut comes inside the COPY,
    // inside a batch, whatever the kernel buffers between the proxy and the client.
    server.dropAfter(1_000_000);
    const broken = await loadPostgres(db, { url: server.url, tables: ["messages", "conversations"], batchRows: 1_000 });
    const landedBefore = broken.filter((r) => r.status === "landed").reduce((n, r) => n + r.rowsLanded, 0);
    expect(landedBefore).toBeGreaterThanOrEqual(3_000);
    expect(landedBefore).toBeLessThan(20_000);
    expect(broken.filter((r) => r.status === "failed").map((r) => r.table)).toEqual(["postgres_messages", "postgres_conversations"]);
    expect(broken.find((r) => r.status === "failed")!.error).toMatch(
      /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres messages: .+; the batches before it are committed and a rerun resumes after the last of them$/,
    );
    const resumed = await loadPostgres(db, { url: server.url, tables: ["messages", "conversations"], batchRows: 1_000 });
    expect(resumed.every((r) => r.status === "landed")).toBe(true);
    expect(resumed.reduce((n, r) => n + r.rowsLanded, 0)).toBe(20_000 - landedBefore + 2_000);
    expect(await rawCounts(db, ["conversations", "messages"])).toEqual([
      { t: "conversations", n: 2_000, ids: 2_000 },
      { t: "messages", n: 20_000, ids: 20_000 },
    ]);
  }, 120_000);
  it("fails a table whose batch cannot land, and still lands the next one over the same connection", async () => {
    const server = await startPostgres();
    await fillProduct(server.pg, 2_000);
    const db = await tempDatabase();
    // A raw table someone altered: its payload cannot hold JSON, so the first batch fails while
    // most of the 20,000 messages' COPY is still to be read.
    await db.withConnection((c) =>
      c.run(
        "create schema raw; create table raw.postgres_messages (payload integer, _file varchar, _line bigint, _load_id varchar, _loaded_at timestamptz)",
      ),
    );
    const results = await loadPostgres(db, { url: server.url, tables: ["messages", "conversations"], batchRows: 1_000 });
    expect(results.map((r) => [r.table, r.status, r.rowsLanded])).toEqual([
      ["postgres_messages", "failed", 0],
      ["postgres_conversations", "landed", 1_000],
      ["postgres_conversations", "landed", 1_000],
    ]);
    expect(results[0]!.error).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres messages: .*Conversion Error/);
    expect(server.connections()).toBe(1);
  }, 120_000);
});

describe("duckform load postgres", () => {
  it("takes the password from $PGPASSWORD, never prints it, and names a missing table", async () => {
    const server = await startPostgres();
    await fillProduct(server.pg, 3);
    const project = tempDir();
    writeFileSync(join(project, "dataform.json"), JSON.stringify({ defaultDatabase: "demo" }));
    process.env.PGPASSWORD = "s3cret-from-env";
    try {
      const ok = await duckform(["load", "postgres", "--url", server.url, "--project", project]);
      expect(ok.stderr).toBe("");
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(
        /\(raw\.postgres_conversations 3, raw\.postgres_messages 30, raw\.postgres_service_jobs 2, raw\.postgres_user_actions 3\)\n$/,
      );
      const url = server.url.replace("postgres@", "postgres:hunter2@");
      const missing = await duckform(["load", "postgres", "--url", url, "--tables", "messages,chats", "--project", project]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe(`duckform: table chats does not exist in ${server.url}\n`);
      for (const out of [ok.stdout, ok.stderr, missing.stdout, missing.stderr]) {
        expect(out).not.toContain("hunter2");
        expect(out).not.toContain("s3cret");
      }
    } finally {
      delete process.env.PGPASSWORD;
    }
  }, 60_000);
});

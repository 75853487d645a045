import { describe, expect, it } from "vitest";
import { runProject } from "../../runner/run.ts";
import { copyFixture, projectDatabase, sqlRows } from "../util/project.ts";

async function seedEvents(dir: string, values: string): Promise<void> {
  await sqlRows(
    projectDatabase(dir),
    `create schema if not exists raw;
     create table if not exists raw.events (event_id int, user_id varchar, amount int, loaded_at timestamp);
     create table if not exists raw.ops_log (model varchar, step varchar);
     insert into raw.events values ${values};
     select 1`,
  );
}

const ordered = (table: string) => `select event_id, user_id, amount from analytics.${table} order by event_id, user_id`;

describe("incremental tables", () => {
  it("merges on the unique key and appends without one", async () => {
    const dir = copyFixture("incremental");
    await seedEvents(dir, "(1, 'u1', 10, '2024-01-01'), (2, 'u2', 20, '2024-01-01')");
    const first = await runProject(dir);
    expect(first.status).toBe("success");
    expect(first.actions.find((a) => a.name.endsWith("merged"))).toMatchObject({ mode: "full", rowsAffected: 2 });

    // Event 2 is re-sent with a new amount, event 3 is new.
    await seedEvents(dir, "(2, 'u2', 25, '2024-01-02'), (3, 'u3', 30, '2024-01-02')");
    const second = await runProject(dir);
    expect(second.actions.find((a) => a.name.endsWith("merged"))).toMatchObject({ mode: "incremental", rowsAffected: 2 });

    const file = projectDatabase(dir);
    expect(await sqlRows(file, ordered("merged"))).toEqual([
      { event_id: 1, user_id: "u1", amount: 10 },
      { event_id: 2, user_id: "u2", amount: 25 },
      { event_id: 3, user_id: "u3", amount: 30 },
    ]);
    expect(await sqlRows(file, ordered("appended"))).toEqual([
      { event_id: 1, user_id: "u1", amount: 10 },
      { event_id: 2, user_id: "u2", amount: 20 },
      { event_id: 2, user_id: "u2", amount: 25 },
      { event_id: 3, user_id: "u3", amount: 30 },
    ]);
  });

  it("runs preOps/postOps on a rebuild and incrementalPreOps/incrementalPostOps on an incremental write", async () => {
    const dir = copyFixture("incremental");
    await seedEvents(dir, "(1, 'u1', 10, '2024-01-01')");
    await runProject(dir, { actions: ["merged"] });
    await seedEvents(dir, "(2, 'u2', 20, '2024-01-02')");
    await runProject(dir, { actions: ["merged"] });
    const log = await sqlRows(projectDatabase(dir), "select step from raw.ops_log where model = 'merged'");
    expect(log.map((r) => r.step)).toEqual(["full-pre", "full-post", "incremental-pre", "incremental-post"]);
  });

  it("rebuilds from the query under --full-refresh, dropping rows the source no longer has", async () => {
    const dir = copyFixture("incremental");
    await seedEvents(dir, "(1, 'u1', 10, '2024-01-01'), (2, 'u2', 20, '2024-01-01')");
    await runProject(dir);
    await sqlRows(projectDatabase(dir), "delete from raw.events where event_id = 1; select 1");
    const run = await runProject(dir, { fullRefresh: true });
    expect(run.actions.find((a) => a.name.endsWith("appended"))).toMatchObject({ mode: "full", rowsAffected: 1 });
    expect(await sqlRows(projectDatabase(dir), ordered("appended"))).toEqual([{ event_id: 2, user_id: "u2", amount: 20 }]);
  });

  it("never rebuilds a protected table: --full-refresh runs it incrementally and says so", async () => {
    const dir = copyFixture("incremental");
    await seedEvents(dir, "(1, 'u1', 10, '2024-01-01')");
    await runProject(dir);
    await sqlRows(projectDatabase(dir), "delete from raw.events; insert into raw.events values (2, 'u2', 20, '2024-01-02'); select 1");
    const run = await runProject(dir, { fullRefresh: true });
    const snapshot = run.actions.find((a) => a.name.endsWith("snapshot"))!;
    expect(snapshot.mode).toBe("incremental");
    expect(snapshot.notes).toContain("protected: --full-refresh ignored, ran incrementally");
    // The row the source lost is still there, and the new one was merged in.
    expect(await sqlRows(projectDatabase(dir), ordered("snapshot"))).toEqual([
      { event_id: 1, user_id: "u1", amount: 10 },
      { event_id: 2, user_id: "u2", amount: 20 },
    ]);
  });
});

describe("onSchemaChange", () => {
  const columns = (dir: string, table: string) =>
    sqlRows(projectDatabase(dir), `select column_name from duckdb_columns() where table_name = '${table}' order by column_index`).then(
      (rows) => rows.map((r) => r.column_name),
    );

  it("IGNORE keeps the table's columns, FAIL refuses, EXTEND adds, SYNCHRONIZE adds and drops", async () => {
    const dir = copyFixture("schema-change");
    expect((await runProject(dir)).status).toBe("success");

    const extended = await runProject(dir, { vars: { shape: "extended" } });
    const byName = (run: typeof extended, n: string) => run.actions.find((a) => a.name.endsWith(n))!;
    expect(byName(extended, "on_ignore").status).toBe("success");
    expect(byName(extended, "on_fail")).toMatchObject({ status: "failed" });
    expect(byName(extended, "on_fail").error!.message).toMatch(/onSchemaChange FAIL: added columns: \[note\], removed columns: \[\]/);
    expect(byName(extended, "on_extend").status).toBe("success");
    expect(await columns(dir, "on_ignore")).toEqual(["id", "name", "score", "version"]);
    expect(await columns(dir, "on_fail")).toEqual(["id", "name", "score", "version"]);
    expect(await columns(dir, "on_extend")).toEqual(["id", "name", "score", "version", "note"]);
    // The added column is filled by the same run.
    expect(await sqlRows(projectDatabase(dir), "select distinct note from analytics.on_extend")).toEqual([{ note: "new" }]);

    const changed = await runProject(dir, { vars: { shape: "changed" } });
    expect(byName(changed, "on_extend").error!.message).toMatch(/column removals are not allowed with onSchemaChange EXTEND/);
    expect(byName(changed, "on_synchronize").status).toBe("success");
    expect(await columns(dir, "on_synchronize")).toEqual(["id", "name", "version", "note"]);
    // A failed schema change leaves the table as it was.
    expect(await columns(dir, "on_extend")).toEqual(["id", "name", "score", "version", "note"]);
  });
});

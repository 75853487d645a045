import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runProject } from "../../runner/run.ts";
import { copyFixture, projectDatabase, sqlRows } from "../util/project.ts";
import { tempDir } from "../util/tmp.ts";

const statusOf = (run: Awaited<ReturnType<typeof runProject>>) =>
  Object.fromEntries(run.actions.map((a) => [a.name.split(".").pop(), a.status]));

describe("operations", () => {
  it("runs operations as written, and an operation with hasOutput is a dependency like a table", async () => {
    const dir = copyFixture("operations");
    const run = await runProject(dir);
    expect(statusOf(run)).toEqual({ make_lookup: "success", uses_lookup: "success", housekeeping: "success" });
    const names = run.actions.map((a) => a.name.split(".").pop());
    expect(names.indexOf("make_lookup")).toBeLessThan(names.indexOf("uses_lookup"));
    const file = projectDatabase(dir);
    expect(await sqlRows(file, "select plan_label from analytics.uses_lookup order by plan_id")).toEqual([
      { plan_label: "BASIC" },
      { plan_label: "PREMIUM" },
    ]);
    expect(await sqlRows(file, "select note from analytics.housekeeping_log")).toEqual([{ note: "labels: 2" }]);
  });
});

describe("assertions", () => {
  it("pass on clean data", async () => {
    const run = await runProject(copyFixture("assertions"));
    expect(run.status).toBe("success");
    expect(run.actions.filter((a) => a.type === "assertion").map((a) => a.status)).toEqual(["success", "success", "success"]);
  });

  it("fail with the failing rows kept for review, and skip what depends on them", async () => {
    const dir = copyFixture("assertions");
    const run = await runProject(dir, { vars: { bad: "1" } });
    expect(run.status).toBe("failed");
    const s = statusOf(run);
    expect(s.analytics_orders_assertions_uniqueKey_0).toBe("failed");
    expect(s.analytics_orders_assertions_rowConditions).toBe("failed");
    expect(s.orders_without_customer).toBe("failed");
    expect(s.order_report).toBe("skipped");
    expect(s.customers).toBe("success");

    const failures = await sqlRows(
      projectDatabase(dir),
      `select assertion, row_json::varchar as row_json from duckform_meta.assertion_failures
       where run_id = '${run.runId}' order by assertion, row_number`,
    );
    const rowConditions = failures.filter((f) => String(f.assertion).endsWith("rowConditions")).map((f) => JSON.parse(String(f.row_json)));
    // The quote in the condition survives the trip from BigQuery's string syntax to DuckDB's.
    expect(rowConditions.map((r) => r.failing_row_condition).sort()).toEqual([
      "amount >= 0",
      "customer_id IS NOT NULL",
      "status in ('paid', 'open')",
    ]);
    const unique = failures.filter((f) => String(f.assertion).endsWith("uniqueKey_0")).map((f) => JSON.parse(String(f.row_json)));
    expect(unique).toEqual([{ order_id: 2, index_row_count: 2 }]);
    const orphan = failures
      .filter((f) => String(f.assertion).endsWith("orders_without_customer"))
      .map((f) => JSON.parse(String(f.row_json)));
    expect(orphan).toEqual([{ order_id: 3, customer_id: null }]);
  });
});

describe("failures", () => {
  it("a failed action skips its dependents, independent branches go on, and the old table survives", async () => {
    const dir = copyFixture("failures");
    const ok = await runProject(dir, { actions: ["base", "broken"] });
    expect(ok.status).toBe("success");

    const run = await runProject(dir, { vars: { break: "1" } });
    expect(run.status).toBe("failed");
    expect(statusOf(run)).toMatchObject({
      base: "success",
      broken: "failed",
      after_broken: "skipped",
      after_after: "skipped",
      independent: "success",
      reads_missing_source: "failed",
    });
    const broken = run.actions.find((a) => a.name.endsWith("broken"))!;
    expect(broken.error!.file).toBe("definitions/broken.sqlx");
    expect(broken.error!.message).toMatch(/no_such_column/);
    expect(run.actions.find((a) => a.name.endsWith("after_after"))!.notes).toEqual([
      "skipped because test-proj.analytics.after_broken was skipped",
    ]);
    // The rebuild failed inside its transaction: the previous table is intact.
    expect(await sqlRows(projectDatabase(dir), "select count(*) as n, sum(doubled) as s from analytics.broken")).toEqual([{ n: 5, s: 20 }]);
  });

  it("a missing declared source fails its dependent with a message naming the source and its file", async () => {
    const run = await runProject(copyFixture("failures"), { actions: ["reads_missing_source"] });
    expect(run.actions[0].error!.message).toMatch(
      /declared source raw\.not_loaded_yet \(definitions\/sources\.js\) does not exist in .*test-proj\.duckdb/,
    );
  });
});

describe("selection", () => {
  const names = (run: Awaited<ReturnType<typeof runProject>>) => run.actions.map((a) => a.name.split(".").pop()).sort();

  it("selects by --actions, --tags, --include-deps and --include-dependents as dataform run does", async () => {
    const dir = copyFixture("selection");
    expect(names(await runProject(dir))).toEqual(["a", "b", "c", "d", "e", "f"]);
    expect(names(await runProject(dir, { actions: ["b"] }))).toEqual(["b"]);
    expect(names(await runProject(dir, { actions: ["b"], includeDependencies: true }))).toEqual(["a", "b"]);
    expect(names(await runProject(dir, { actions: ["b"], includeDependents: true }))).toEqual(["b", "c"]);
    expect(names(await runProject(dir, { tags: ["other"] }))).toEqual(["d", "e", "f"]);
    expect(names(await runProject(dir, { tags: ["middle"], includeDependencies: true, includeDependents: true }))).toEqual(["a", "b", "c"]);
    expect(names(await runProject(dir, { actions: ["reporting.d", "test-proj.analytics.a"] }))).toEqual(["a", "d"]);
  });

  it("refuses a selector that matches nothing rather than running nothing", async () => {
    await expect(runProject(copyFixture("selection"), { actions: ["nope"] })).rejects.toThrow('no action matches "nope"');
    await expect(runProject(copyFixture("selection"), { includeDependencies: true })).rejects.toThrow(/need --actions or --tags/);
  });
});

describe("disabled actions", () => {
  it("are reported as disabled, run nothing, and do not block their dependents", async () => {
    const dir = copyFixture("selection");
    await sqlRows(projectDatabase(dir), "create schema analytics; create table analytics.e as select 'old e' as name; select 1");
    const run = await runProject(dir, { tags: ["other"] });
    expect(statusOf(run)).toEqual({ d: "success", e: "disabled", f: "success" });
    expect(await sqlRows(projectDatabase(dir), "select name from analytics.f")).toEqual([{ name: "f" }]);
  });
});

describe("concurrency", () => {
  it("runs independent actions in parallel on one database without write conflicts", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "workflow_settings.yaml"), "defaultProject: wide\ndefaultDataset: analytics\n");
    mkdirSync(join(dir, "definitions"));
    for (let i = 0; i < 12; i++) {
      writeFileSync(
        join(dir, "definitions", `part_${i}.sqlx`),
        `config { ${i % 3 === 0 ? 'type: "incremental", uniqueKey: ["id"]' : 'type: "table"'} }\nselect range as id, range % ${i + 2} as bucket from range(200000)`,
      );
    }
    writeFileSync(
      join(dir, "definitions", "all_parts.sqlx"),
      `config { type: "table" }\n${Array.from({ length: 12 }, (_, i) => `select count(*) as n from \${ref("part_${i}")}`).join("\nunion all\n")}`,
    );
    for (const fullRefresh of [false, false, true]) {
      const run = await runProject(dir, { concurrency: 4, fullRefresh });
      expect(run.actions.map((a) => a.status)).toEqual(Array(13).fill("success"));
    }
    const [row] = await sqlRows(projectDatabase(dir, "wide"), "select sum(n) as n from analytics.all_parts", "wide");
    expect(row.n).toBe(12 * 200000);
  });
});

describe("vars and schema suffix", () => {
  it("--vars override the project's vars and --schema-suffix renames every schema", async () => {
    const dir = copyFixture("selection");
    await runProject(dir, { vars: { region: "eu" }, schemaSuffix: "ci" });
    expect(await sqlRows(projectDatabase(dir), "select region from analytics_ci.c")).toEqual([{ region: "eu-b-c" }]);
    expect(await sqlRows(projectDatabase(dir), "select name from reporting_ci.d")).toEqual([{ name: "d" }]);
  });
});

describe("dry run", () => {
  it("prints each action's SQL and creates no database", async () => {
    const dir = copyFixture("incremental");
    const run = await runProject(dir, { dryRun: true });
    expect(existsSync(projectDatabase(dir))).toBe(false);
    expect(existsSync(join(dir, "run_results.json"))).toBe(false);
    const merged = run.actions.find((a) => a.name.endsWith("merged"))!;
    expect(merged.sql!.join("\n")).toMatch(/create or replace table "test-proj"\."analytics"\."merged" as/);
  });

  it("shows the MERGE an incremental table would run and changes nothing", async () => {
    const dir = copyFixture("incremental");
    await sqlRows(
      projectDatabase(dir),
      `create schema raw; create table raw.events as select 1 as event_id, 'u1' as user_id, 5 as amount, timestamp '2024-01-01' as loaded_at;
       create table raw.ops_log (model varchar, step varchar); select 1`,
    );
    await runProject(dir);
    const before = await sqlRows(
      projectDatabase(dir),
      "select (select count(*) from duckform_meta.run_history) as h, (select count(*) from raw.ops_log) as o",
    );
    const run = await runProject(dir, { dryRun: true });
    const merged = run.actions.find((a) => a.name.endsWith("merged"))!.sql!.join("\n");
    expect(merged).toMatch(/merge into "test-proj"\."analytics"\."merged" as dataform_dest/);
    expect(merged).toMatch(/incremental-pre/);
    expect(
      await sqlRows(
        projectDatabase(dir),
        "select (select count(*) from duckform_meta.run_history) as h, (select count(*) from raw.ops_log) as o",
      ),
    ).toEqual(before);
  });
});

describe("results", () => {
  it("writes run_results.json and appends the same to duckform_meta.run_history", async () => {
    const dir = copyFixture("failures");
    const run = await runProject(dir, { vars: { break: "1" } });
    const file = JSON.parse(readFileSync(join(dir, "run_results.json"), "utf8"));
    expect(file.runId).toBe(run.runId);
    expect(file.actions.find((a: { name: string }) => a.name.endsWith(".broken"))).toMatchObject({
      type: "table",
      status: "failed",
      fileName: "definitions/broken.sqlx",
      error: { file: "definitions/broken.sqlx" },
    });
    const history = await sqlRows(
      projectDatabase(dir),
      `select status, count(*) as n from duckform_meta.run_history where run_id = '${run.runId}' group by status order by status`,
    );
    expect(history).toEqual([
      { status: "failed", n: 2 },
      { status: "skipped", n: 2 },
      { status: "success", n: 2 },
    ]);
  });
});

describe("the database file", () => {
  it("is <defaultDatabase>.duckdb in the project, unless $DUCKFORM_DATABASE or --database says otherwise", async () => {
    const dir = copyFixture("selection");
    await runProject(dir, { actions: ["a"] });
    expect(existsSync(projectDatabase(dir))).toBe(true);

    const fromEnv = join(tempDir(), "from-env.duckdb");
    process.env.DUCKFORM_DATABASE = fromEnv;
    try {
      await runProject(dir, { actions: ["a"] });
      const explicit = join(tempDir(), "explicit.duckdb");
      await runProject(dir, { actions: ["a"], database: explicit });
      expect(await sqlRows(explicit, "select region from analytics.a")).toEqual([{ region: "us" }]);
    } finally {
      delete process.env.DUCKFORM_DATABASE;
    }
    expect(await sqlRows(fromEnv, "select region from analytics.a")).toEqual([{ region: "us" }]);
  });
});

describe("targets in another database", () => {
  it("read from <database>.duckdb beside the project's database, attached under that name", async () => {
    const dir = copyFixture("two-databases");
    await sqlRows(
      join(dir, "shared-data.duckdb"),
      "create schema reference; create table reference.countries as select 'de' as code, 'Germany' as name; select 1",
      "shared-data",
    );
    const run = await runProject(dir);
    expect(run.status).toBe("success");
    expect(await sqlRows(projectDatabase(dir, "main-db"), "select name from analytics.country_names", "main-db")).toEqual([
      { name: "GERMANY" },
    ]);
  });
});

describe("v2 projects", () => {
  it("runs a dataform.json project whose database name has a hyphen, with includes and .js definitions", async () => {
    const dir = copyFixture("v2-project");
    const run = await runProject(dir);
    expect(run.status).toBe("success");
    expect(
      await sqlRows(projectDatabase(dir, "my-warehouse"), "select label from dataform.price_labels order by sku", "my-warehouse"),
    ).toEqual([{ label: "10 EUR" }, { label: "20 EUR" }]);
  });
});

describe("writes to another database", () => {
  it("create <database>.duckdb beside the project's file on the first write, and the run reads it back", async () => {
    const dir = copyFixture("other-database");
    const run = await runProject(dir);
    expect(run.status).toBe("success");
    expect(statusOf(run)).toEqual({ local_numbers: "success", shared_numbers: "success", total: "success" });
    expect(await sqlRows(join(dir, "otherdb.duckdb"), "select sum(n) as s from shared.shared_numbers", "otherdb")).toEqual([{ s: 30 }]);
    expect(await sqlRows(projectDatabase(dir), "select total from analytics.total")).toEqual([{ total: 30 }]);
    expect(existsSync(join(dir, "run_results.json"))).toBe(true);
  });

  it("under projectSuffix go to <project>_<suffix>.duckdb, while sources stay where they were landed", async () => {
    const dir = copyFixture("project-suffix");
    await sqlRows(projectDatabase(dir), "create schema raw; create table raw.landed_orders as select 1 as id, 5 as amount; select 1");
    const run = await runProject(dir);
    expect(run.status).toBe("success");
    expect(run.actions.map((a) => a.name).sort()).toEqual(["test-proj_dev.analytics.order_total", "test-proj_dev.analytics.orders"]);
    expect(await sqlRows(join(dir, "test-proj_dev.duckdb"), "select total from analytics.order_total", "test-proj_dev")).toEqual([
      { total: 5 },
    ]);
  });

  it("a dry run of them creates no file", async () => {
    const dir = copyFixture("other-database");
    await runProject(dir, { dryRun: true });
    expect(existsSync(join(dir, "otherdb.duckdb"))).toBe(false);
  });
});

describe("a declared source in another database", () => {
  it("that is missing fails its dependent with a message naming the database and the exact file looked in", async () => {
    const dir = copyFixture("missing-other-source");
    const run = await runProject(dir);
    expect(run.status).toBe("failed");
    expect(run.actions[0].error!.message).toBe(
      `declared source vendor-data.raw.prices (definitions/sources.js) does not exist in ${join(dir, "vendor-data.duckdb")} ` +
        `(no such file yet); load or create it before running test-proj.analytics.latest_prices`,
    );
    await sqlRows(join(dir, "vendor-data.duckdb"), "create schema raw; select 1", "vendor-data");
    const again = await runProject(dir);
    expect(again.actions[0].error!.message).toBe(
      `declared source vendor-data.raw.prices (definitions/sources.js) does not exist in ${join(dir, "vendor-data.duckdb")}; ` +
        `load or create it before running test-proj.analytics.latest_prices`,
    );
  });
});

describe("a disabled action under a failed one", () => {
  it("is reported as disabled, and what depends on it is still skipped", async () => {
    const run = await runProject(copyFixture("disabled-under-failed"));
    expect(statusOf(run)).toEqual({ broken: "failed", switched_off: "disabled", below_switched_off: "skipped" });
    const notes = Object.fromEntries(run.actions.map((a) => [a.name.split(".").pop(), a.notes]));
    expect(notes.switched_off).toEqual(["disabled; test-proj.analytics.broken failed above it"]);
    expect(notes.below_switched_off).toEqual(["skipped because test-proj.analytics.switched_off is disabled below a failure"]);
  });
});

describe("a resolved name inside a SQL string literal", () => {
  it("is left as the user wrote it, while the reference beside it is rewritten", async () => {
    const dir = copyFixture("string-literal");
    const run = await runProject(dir);
    expect(run.status).toBe("success");
    expect(await sqlRows(projectDatabase(dir), "select source_name, row_count from analytics.lineage")).toEqual([
      { source_name: "`test-proj.analytics.events`", row_count: 1 },
    ]);
  });
});

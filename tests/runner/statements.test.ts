import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { compileProject } from "../../runner/compile.ts";
import { Dialect } from "../../runner/dialect.ts";
import { planRun, type PlannedAction } from "../../runner/plan.ts";
import type { RelationState } from "../../runner/state.ts";
import { actionTasks, type ActionTasks, type TaskContext } from "../../runner/statements.ts";

const fixture = (name: string) => resolve(import.meta.dirname, "..", "fixtures", name);
const golden = (name: string) => resolve(import.meta.dirname, "goldens", `${name}.sql`);

/** A fixture's planned actions by their last name part, and the dialect its SQL goes through. */
function project(name: string, vars?: Record<string, string>) {
  const graph = compileProject(fixture(name), { vars });
  const actions = new Map(planRun(graph).map((a) => [a.name.split(".").pop()!, a]));
  const dialect = new Dialect(graph);
  return { dialect, action: (short: string): PlannedAction => actions.get(short) ?? expect.fail(`no action ${short}`) };
}

/** An action's tasks as one readable file: how they run, then each task's SQL under its kind. */
function render(planned: ActionTasks): string {
  const head = [
    `-- transactional: ${planned.transactional}`,
    ...(planned.mode ? [`-- mode: ${planned.mode}`] : []),
    ...planned.notes.map((note) => `-- note: ${note}`),
  ];
  return [head.join("\n"), ...planned.tasks.map((task) => `-- task: ${task.kind}\n${task.sql.trimEnd()};`)].join("\n\n") + "\n";
}

const table = (...columns: string[]): RelationState => ({ kind: "table", columns: columns.map((name) => ({ name, type: "VARCHAR" })) });
const EVENT_COLUMNS = ["event_id", "user_id", "amount", "loaded_at"];

describe("actionTasks", () => {
  const incremental = project("incremental");
  const tasks = (short: string, context: Omit<TaskContext, "dialect"> = {}) =>
    actionTasks(incremental.action(short), { dialect: incremental.dialect, ...context });

  it("rebuilds an incremental table that does not exist yet from its full query, with its pre- and post-operations, in one transaction", async () => {
    await expect(render(tasks("merged"))).toMatchFileSnapshot(golden("incremental-first-run"));
  });

  it("merges on the unique key into the table's columns once it exists", async () => {
    await expect(render(tasks("merged", { existing: table(...EVENT_COLUMNS) }))).toMatchFileSnapshot(golden("incremental-merge"));
  });

  it("inserts the new rows when there is no unique key", async () => {
    await expect(render(tasks("appended", { existing: table(...EVENT_COLUMNS) }))).toMatchFileSnapshot(golden("incremental-insert"));
  });

  it("rebuilds on --full-refresh, but writes a protected table incrementally and says so", async () => {
    await expect(render(tasks("merged", { existing: table(...EVENT_COLUMNS), fullRefresh: true }))).toMatchFileSnapshot(
      golden("incremental-full-refresh"),
    );
    const protectedTasks = tasks("snapshot", { existing: table(...EVENT_COLUMNS), fullRefresh: true });
    expect(protectedTasks.notes).toEqual(["protected: --full-refresh ignored, ran incrementally"]);
    await expect(render(protectedTasks)).toMatchFileSnapshot(golden("incremental-protected"));
  });

  it("drops a view that stands where a table is to be built", async () => {
    await expect(render(tasks("merged", { existing: { kind: "view", columns: [] } }))).toMatchFileSnapshot(golden("table-replaces-view"));
  });

  it("notes before the merge that the columns are compared first when onSchemaChange is set", async () => {
    const changing = project("schema-change", { shape: "base" });
    const planned = actionTasks(changing.action("on_extend"), {
      dialect: changing.dialect,
      existing: table("id", "name", "score", "version"),
    });
    await expect(render(planned)).toMatchFileSnapshot(golden("incremental-on-schema-change"));
  });

  it("creates or replaces a view, and a table, from a project's own SQL in DuckDB's quoting", async () => {
    const basic = project("basic");
    await expect(render(actionTasks(basic.action("js_view"), { dialect: basic.dialect }))).toMatchFileSnapshot(golden("view"));
    await expect(render(actionTasks(basic.action("source"), { dialect: basic.dialect }))).toMatchFileSnapshot(golden("table"));
  });

  it("runs an operation's queries one by one, outside a transaction of its own", async () => {
    const operations = project("operations");
    await expect(render(actionTasks(operations.action("housekeeping"), { dialect: operations.dialect }))).toMatchFileSnapshot(
      golden("operation"),
    );
  });

  it("checks an assertion, standalone or built in, through a view and a count of its rows", async () => {
    const assertions = project("assertions");
    await expect(render(actionTasks(assertions.action("orders_without_customer"), { dialect: assertions.dialect }))).toMatchFileSnapshot(
      golden("assertion"),
    );
    const builtIn = assertions.action("analytics_orders_assertions_uniqueKey_0");
    await expect(render(actionTasks(builtIn, { dialect: assertions.dialect }))).toMatchFileSnapshot(golden("assertion-unique-key"));
  });

  it("refuses a just-in-time compiled action, which needs BigQuery", () => {
    const action = incremental.action("merged");
    if (action.kind === "operation" || action.kind === "assertion") throw new Error("merged is a table");
    expect(() =>
      actionTasks({ ...action, table: { ...action.table, jitCode: "async () => ''" } }, { dialect: incremental.dialect }),
    ).toThrow("just-in-time compiled actions (jitCode) need BigQuery and are not supported by duckform");
  });
});

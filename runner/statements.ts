import type { Dialect } from "./dialect.ts";
import { UserError } from "./errors.ts";
import type { Table, Target } from "./graph.ts";
import type { PlannedAction } from "./plan.ts";
import { quoteIdent, quoteQualified } from "./quote.ts";
import type { Column, RelationState } from "./state.ts";

/**
 * DuckDB statements for each step of an action, after Dataform's ExecutionSql
 * (cli/api/dbadapters/execution_sql.ts), with its BigQuery scripting replaced by
 * statements DuckDB runs inside one transaction. Pure: nothing here touches a database,
 * so the SQL is tested against golden files and a dry run prints what a run would do.
 */

/** One step of an action; `sql` is what it runs, and what a dry run prints. */
export type Task =
  /** A statement run for its effect: a pre- or post-operation, a drop, an operation's query. */
  | { kind: "statement"; sql: string }
  /** The action's main statement, whose affected-row count its result reports. */
  | { kind: "main"; sql: string }
  /**
   * An incremental write of `query` into the table's existing `columns`. With an onSchemaChange
   * other than IGNORE the executor compares the query's columns with the table's first, and the
   * merge or insert it runs names the columns as they are then.
   */
  | { kind: "incremental"; sql: string; table: Table; query: string; columns: string[] }
  /** An assertion's check: the rows of its view; any row fails the action. */
  | { kind: "assertion"; sql: string; target: Target };

/** An action's tasks and how to run them. */
export interface ActionTasks {
  tasks: Task[];
  /** One transaction for all tasks, so a failed rebuild leaves the previous table as it was. */
  transactional: boolean;
  /** How a table is written: rebuilt from `query`, or incrementally. */
  mode?: "full" | "incremental";
  notes: string[];
}

/** What the warehouse holds and what the run asks, as far as an action's SQL depends on them. */
export interface TaskContext {
  dialect: Dialect;
  /** The relation the action writes, as it exists now. */
  existing?: RelationState;
  fullRefresh?: boolean;
}

/** The tasks of one planned action. */
export function actionTasks(action: PlannedAction, context: TaskContext): ActionTasks {
  const proto = action.kind === "operation" ? action.operation : action.kind === "assertion" ? action.assertion : action.table;
  if (proto.jitCode) {
    // JiT actions ask a live BigQuery for their SQL at run time; there is nothing to run here.
    throw new UserError("just-in-time compiled actions (jitCode) need BigQuery and are not supported by duckform");
  }
  const t = (s: string) => context.dialect.translate(s, action.target);
  switch (action.kind) {
    case "operation":
      return { tasks: action.operation.queries.map((q) => ({ kind: "statement", sql: t(q) })), transactional: false, notes: [] };
    case "assertion": {
      const assertion = action.assertion;
      const query = assertion.parentAction
        ? context.dialect.translateBuiltinAssertion(assertion.query, assertion.target)
        : context.dialect.translate(assertion.query, assertion.target);
      return {
        tasks: [
          { kind: "statement", sql: createOrReplaceView(assertion.target, query) },
          { kind: "assertion", sql: countRows(assertion.target), target: assertion.target },
        ],
        transactional: false,
        notes: [],
      };
    }
    default:
      return tableTasks(action.kind, action.table, context);
  }
}

function tableTasks(kind: "table" | "view" | "incremental", table: Table, context: TaskContext): ActionTasks {
  const t = (s: string) => context.dialect.translate(s, table.target);
  const notes: string[] = [];
  const incremental = writesIncrementally(kind, table, context, notes);
  const wanted = kind === "view" ? "view" : "table";
  const tasks: Task[] = [];
  for (const op of incremental ? table.incrementalPreOps : table.preOps) tasks.push({ kind: "statement", sql: t(op) });
  if (context.existing && context.existing.kind !== wanted) {
    tasks.push({ kind: "statement", sql: dropIfExists(table.target, context.existing.kind) });
  }
  if (incremental) {
    const query = t(incrementalQuery(table));
    const columns = context.existing!.columns.map((c) => c.name);
    tasks.push({ kind: "incremental", sql: describeIncremental(table, columns, query), table, query, columns });
  } else if (wanted === "view") {
    tasks.push({ kind: "main", sql: createOrReplaceView(table.target, t(table.query)) });
  } else {
    tasks.push({ kind: "main", sql: createOrReplaceTable(table.target, t(table.query)) });
  }
  for (const op of incremental ? table.incrementalPostOps : table.postOps) tasks.push({ kind: "statement", sql: t(op) });
  return { tasks, transactional: true, mode: wanted === "view" ? undefined : incremental ? "incremental" : "full", notes };
}

/**
 * Dataform's shouldWriteIncrementally: the table exists as a table, and either this is not a
 * full refresh or the table is protected. Protected tables are never rebuilt, so under
 * --full-refresh they run incrementally and the result says so.
 */
function writesIncrementally(kind: string, table: Table, context: TaskContext, notes: string[]): boolean {
  if (kind !== "incremental" || context.existing?.kind !== "table") return false;
  if (!context.fullRefresh) return true;
  if (table.protected) {
    notes.push("protected: --full-refresh ignored, ran incrementally");
    return true;
  }
  return false;
}

/** The merge or insert as it stands before any schema change, with a note when one may come first. */
function describeIncremental(table: Table, columns: string[], query: string): string {
  const dml = incrementalDml(table, columns, query);
  return table.onSchemaChange === "IGNORE"
    ? dml
    : `-- onSchemaChange ${table.onSchemaChange}: the table's columns are compared with the query's before this\n${dml}`;
}

export function qualified(target: Target): string {
  return quoteQualified(target.database, target.schema, target.name);
}

export function createOrReplaceTable(target: Target, query: string): string {
  return `create or replace table ${qualified(target)} as\n${query}\n`;
}

export function createOrReplaceView(target: Target, query: string): string {
  return `create or replace view ${qualified(target)} as\n${query}\n`;
}

export function dropIfExists(target: Target, kind: "table" | "view"): string {
  return `drop ${kind} if exists ${qualified(target)}`;
}

/** The incremental query, narrowed by the legacy `where` option as Dataform does. */
export function incrementalQuery(table: Table): string {
  const query = table.incrementalQuery || table.query;
  return table.where ? `select * from (${query}\n) as subquery where ${table.where}` : query;
}

/** MERGE on the unique key, or INSERT of the new rows when there is none. */
export function incrementalDml(table: Table, columns: string[], query: string): string {
  const cols = columns.map(quoteIdent);
  if (table.uniqueKey.length === 0) {
    return `insert into ${qualified(table.target)} (${cols.join(", ")})\nselect ${cols.join(", ")}\nfrom (${query}\n) as insertions`;
  }
  const on = table.uniqueKey.map((key) => `dataform_dest.${quoteIdent(key)} = dataform_source.${quoteIdent(key)}`).join(" and ");
  return [
    `merge into ${qualified(table.target)} as dataform_dest`,
    `using (${query}\n) as dataform_source`,
    `on ${on}`,
    `when matched then update set ${cols.map((c) => `${c} = dataform_source.${c}`).join(", ")}`,
    `when not matched then insert (${cols.join(", ")}) values (${cols.map((c) => `dataform_source.${c}`).join(", ")})`,
  ].join("\n");
}

export function addColumn(target: Target, column: Column): string {
  return `alter table ${qualified(target)} add column ${quoteIdent(column.name)} ${column.type}`;
}

export function dropColumn(target: Target, column: string): string {
  return `alter table ${qualified(target)} drop column ${quoteIdent(column)}`;
}

export function countRows(target: Target): string {
  return `select count(*) as row_count from ${qualified(target)}`;
}

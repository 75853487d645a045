import { existsSync } from "node:fs";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { Database } from "./database.ts";
import type { Dialect } from "./dialect.ts";
import { messageOf } from "./errors.ts";
import type { Table, Target } from "./graph.ts";
import type { PlannedAction } from "./plan.ts";
import { quoteLiteral, quoteQualified } from "./quote.ts";
import { relationExists, relationKey, type RelationState } from "./state.ts";
import * as sql from "./statements.ts";

export type ActionStatus = "success" | "failed" | "skipped" | "disabled";

export interface ActionResult {
  name: string;
  type: PlannedAction["kind"];
  fileName: string;
  status: ActionStatus;
  startedAt: string | null;
  seconds: number;
  rowsAffected: number | null;
  /** How a table was written: rebuilt from `query`, or incrementally. */
  mode?: "full" | "incremental";
  notes: string[];
  error?: { message: string; file: string };
  /** With --dry-run: the statements the action would run. */
  sql?: string[];
}

export interface ExecuteOptions {
  runId: string;
  fullRefresh?: boolean;
  dryRun?: boolean;
  concurrency: number;
  /** The schema holding duckform's own tables (assertion failures). */
  metaSchema: string;
  onResult?: (result: ActionResult) => void;
}

/** Rows kept per failing assertion for review after the run. */
const ASSERTION_SAMPLE_ROWS = 100;

/** A failure duckform itself detects in an action (as opposed to one DuckDB reports). */
class ActionFailure extends Error {}

/**
 * Runs planned actions on DuckDB with Dataform's scheduling: an action starts once everything
 * it depends on has succeeded (or is disabled), is skipped when a dependency failed or was
 * skipped, and independent branches go on. Up to `concurrency` actions run at once, each on
 * its own connection; each table, view or incremental write is one transaction, so a failed
 * rebuild leaves the previous table as it was.
 */
export async function executePlan(
  db: Database | null,
  plan: PlannedAction[],
  state: Map<string, RelationState>,
  dialect: Dialect,
  options: ExecuteOptions,
): Promise<ActionResult[]> {
  const catalog = db?.catalog ?? "";
  const results = new Map<string, ActionResult>();
  const connections: DuckDBConnection[] = [];
  const concurrency = options.dryRun ? 1 : Math.max(1, options.concurrency);
  if (db) for (let i = 0; i < concurrency; i++) connections.push(await db.connect());
  const declaredSourcesSeen = new Set<string>();

  const finish = (result: ActionResult) => {
    results.set(result.name, result);
    options.onResult?.(result);
  };

  const runOne = async (action: PlannedAction, connection: DuckDBConnection | undefined): Promise<ActionResult> => {
    const result: ActionResult = {
      name: action.name,
      type: action.kind,
      fileName: action.fileName,
      status: "success",
      startedAt: new Date().toISOString(),
      seconds: 0,
      rowsAffected: null,
      notes: [],
    };
    if (action.disabled) return { ...result, status: "disabled", startedAt: null };
    const started = performance.now();
    const context: ActionContext = {
      action,
      connection,
      dialect,
      options,
      catalog,
      existing: state.get(relationKey(action.target.database || catalog, action.target.schema, action.target.name)),
      result,
    };
    try {
      if (connection) await checkDeclaredSources(connection, action, db!, declaredSourcesSeen);
      await runAction(context);
    } catch (error) {
      result.status = "failed";
      result.error = { message: messageOf(error), file: action.fileName };
      // An operation may have opened a transaction of its own; the next action on this
      // connection must not inherit it.
      await connection?.run("rollback").catch(() => undefined);
    }
    result.seconds = round((performance.now() - started) / 1000);
    return result;
  };

  try {
    await schedule(plan, concurrency, results, finish, async (action, slot) => runOne(action, connections[slot]));
  } finally {
    for (const c of connections) c.closeSync();
  }
  return plan.map((a) => results.get(a.name)!);
}

/** Starts each action when its dependencies are done, at most `concurrency` at a time. */
async function schedule(
  plan: PlannedAction[],
  concurrency: number,
  results: Map<string, ActionResult>,
  finish: (result: ActionResult) => void,
  run: (action: PlannedAction, slot: number) => Promise<ActionResult>,
): Promise<void> {
  const pending = [...plan];
  const freeSlots = Array.from({ length: concurrency }, (_, i) => i);
  // A disabled action below a failure reports itself disabled, but what depends on it is still
  // skipped, as Dataform skips everything below a failure.
  const disabledBelowFailure = new Set<string>();
  const ok = (name: string) => {
    const status = results.get(name)?.status;
    return status === "success" || (status === "disabled" && !disabledBelowFailure.has(name));
  };

  await new Promise<void>((resolve, reject) => {
    let running = 0;
    const pump = () => {
      let progressed = true;
      while (progressed) {
        progressed = false;
        for (let i = 0; i < pending.length; i++) {
          const action = pending[i];
          const deps = action.dependencies;
          if (!deps.every((d) => results.has(d))) continue;
          const blocker = deps.find((d) => !ok(d));
          if (blocker) {
            pending.splice(i--, 1);
            const status = results.get(blocker)!.status;
            const result = skipped(action, blocker, status);
            if (action.disabled) disabledBelowFailure.add(action.name);
            finish(action.disabled ? { ...result, status: "disabled", notes: [`disabled; ${blocker} ${outcome(status)} above it`] } : result);
            progressed = true;
            continue;
          }
          if (freeSlots.length === 0) continue;
          pending.splice(i--, 1);
          const slot = freeSlots.shift()!;
          running++;
          run(action, slot).then(
            (result) => {
              running--;
              freeSlots.push(slot);
              finish(result);
              pump();
            },
            reject,
          );
        }
      }
      if (pending.length === 0 && running === 0) resolve();
    };
    pump();
  });
}

function outcome(status: ActionStatus): string {
  return status === "failed" ? "failed" : status === "disabled" ? "is disabled below a failure" : "was skipped";
}

function skipped(action: PlannedAction, blocker: string, status: ActionStatus): ActionResult {
  return {
    name: action.name,
    type: action.kind,
    fileName: action.fileName,
    status: "skipped",
    startedAt: null,
    seconds: 0,
    rowsAffected: null,
    notes: [`skipped because ${blocker} ${outcome(status)}`],
  };
}

async function checkDeclaredSources(
  connection: DuckDBConnection,
  action: PlannedAction,
  db: Database,
  seen: Set<string>,
): Promise<void> {
  for (const declaration of action.declarations) {
    const t = declaration.target;
    const database = t.database || db.catalog;
    const key = relationKey(database, t.schema, t.name);
    if (seen.has(key)) continue;
    if (!(await relationExists(connection, database, t.schema, t.name))) {
      const file = db.fileOf(database);
      const where = database === db.catalog ? `${t.schema}.${t.name}` : `${database}.${t.schema}.${t.name}`;
      throw new ActionFailure(
        `declared source ${where} (${declaration.fileName}) does not exist in ${file}` +
          `${existsSync(file) ? "" : " (no such file yet)"}; load or create it before running ${action.name}`,
      );
    }
    seen.add(key);
  }
}

interface ActionContext {
  action: PlannedAction;
  connection: DuckDBConnection | undefined;
  dialect: Dialect;
  options: ExecuteOptions;
  catalog: string;
  existing: RelationState | undefined;
  result: ActionResult;
}

async function runAction(ctx: ActionContext): Promise<void> {
  const { action } = ctx;
  const proto = action.table ?? action.operation ?? action.assertion;
  if (proto?.jitCode) {
    // JiT actions ask a live BigQuery for their SQL at run time; there is nothing to run here.
    throw new ActionFailure("just-in-time compiled actions (jitCode) need BigQuery and are not supported by duckform");
  }
  switch (action.kind) {
    case "table":
    case "view":
    case "incremental":
      return runTable(ctx, action.table!);
    case "operation":
      return runStatements(ctx, action.operation!.queries.map((q) => ctx.dialect.translate(q, action.target)), false);
    case "assertion":
      return runAssertion(ctx);
  }
}

/**
 * Dataform's shouldWriteIncrementally: the table exists as a table, and either this is not a
 * full refresh or the table is protected. Protected tables are never rebuilt, so under
 * --full-refresh they run incrementally and the result says so.
 */
function writesIncrementally(ctx: ActionContext, table: Table): boolean {
  if (ctx.action.kind !== "incremental" || ctx.existing?.kind !== "table") return false;
  if (!ctx.options.fullRefresh) return true;
  if (table.protected) {
    ctx.result.notes.push("protected: --full-refresh ignored, ran incrementally");
    return true;
  }
  return false;
}

async function runTable(ctx: ActionContext, table: Table): Promise<void> {
  const t = (s: string) => ctx.dialect.translate(s, table.target);
  const incremental = writesIncrementally(ctx, table);
  const wanted = ctx.action.kind === "view" ? "view" : "table";
  const statements: Step[] = [];
  for (const op of incremental ? table.incrementalPreOps : table.preOps) statements.push(t(op));
  if (ctx.existing && ctx.existing.kind !== wanted) {
    statements.push(sql.dropIfExists(table.target, ctx.existing.kind));
  }
  if (incremental) {
    statements.push({ main: true, incremental: true, sql: t(sql.incrementalQuery(table)) });
  } else if (wanted === "view") {
    statements.push({ main: true, sql: sql.createOrReplaceView(table.target, t(table.query)) });
  } else {
    statements.push({ main: true, sql: sql.createOrReplaceTable(table.target, t(table.query)) });
  }
  for (const op of incremental ? table.incrementalPostOps : table.postOps) statements.push(t(op));
  ctx.result.mode = wanted === "view" ? undefined : incremental ? "incremental" : "full";
  await runStatements(ctx, statements, true);
}

/** A statement, or the action's main statement whose affected-row count is reported. */
type Step = string | { main: true; sql: string; incremental?: boolean };

async function runStatements(ctx: ActionContext, steps: Step[], transactional: boolean): Promise<void> {
  const { connection, result } = ctx;
  if (!connection) {
    result.sql = steps.map((s) => (typeof s === "string" ? s : s.incremental ? dryRunIncremental(ctx, s.sql) : s.sql));
    return;
  }
  if (transactional) await connection.run("begin transaction");
  try {
    for (const step of steps) {
      if (typeof step === "string") {
        await connection.run(step);
      } else if (step.incremental) {
        result.rowsAffected = await runIncrementalDml(ctx, connection, step.sql);
      } else {
        const reader = await connection.runAndReadAll(step.sql);
        result.rowsAffected = affectedRows(reader.columnNames(), reader.getRows());
      }
    }
    if (transactional) await connection.run("commit");
  } catch (error) {
    if (transactional) await connection.run("rollback").catch(() => undefined);
    throw error;
  }
}

function affectedRows(columns: string[], rows: unknown[][]): number | null {
  if (columns[0] !== "Count" || rows.length === 0) return null;
  return Number(rows[0][0]);
}

/**
 * Applies `onSchemaChange` by comparing the incremental query's columns with the table's, then
 * merges or inserts. Unlike Dataform on BigQuery, whose DML keeps the column list read before the
 * schema change, columns added by EXTEND or SYNCHRONIZE are filled by the same run.
 */
async function runIncrementalDml(ctx: ActionContext, connection: DuckDBConnection, query: string): Promise<number | null> {
  const table = ctx.action.table!;
  let columns = ctx.existing!.columns.map((c) => c.name);
  if (table.onSchemaChange !== "IGNORE") {
    const probe = await connection.run(`select * from (${query}\n) as q limit 0`);
    const incoming = probe.columnNames().map((name, i) => ({ name, type: probe.columnTypes()[i].toString() }));
    const lower = (s: string) => s.toLowerCase();
    const existingNames = new Set(columns.map(lower));
    const incomingNames = new Set(incoming.map((c) => lower(c.name)));
    const added = incoming.filter((c) => !existingNames.has(lower(c.name)));
    const removed = columns.filter((c) => !incomingNames.has(lower(c)));
    const describe = `added columns: [${added.map((c) => c.name).join(", ")}], removed columns: [${removed.join(", ")}]`;
    if (table.onSchemaChange === "FAIL" && (added.length > 0 || removed.length > 0)) {
      throw new ActionFailure(`schema mismatch with onSchemaChange FAIL: ${describe}`);
    }
    if (table.onSchemaChange === "EXTEND" && removed.length > 0) {
      throw new ActionFailure(`column removals are not allowed with onSchemaChange EXTEND: ${describe}`);
    }
    if (table.onSchemaChange === "SYNCHRONIZE") {
      const keys = new Set(table.uniqueKey.map(lower));
      const keyColumns = removed.filter((c) => keys.has(lower(c)));
      if (keyColumns.length > 0) {
        throw new ActionFailure(`cannot drop columns [${keyColumns.join(", ")}]: they are part of the unique key`);
      }
      for (const c of removed) await connection.run(sql.dropColumn(table.target, c));
      columns = columns.filter((c) => incomingNames.has(lower(c)));
    }
    for (const c of added) await connection.run(sql.addColumn(table.target, c));
    columns = [...columns, ...added.map((c) => c.name)];
    if (added.length > 0 || removed.length > 0) ctx.result.notes.push(`onSchemaChange ${table.onSchemaChange}: ${describe}`);
  }
  const reader = await connection.runAndReadAll(sql.incrementalDml(table, columns, query));
  return affectedRows(reader.columnNames(), reader.getRows());
}

function dryRunIncremental(ctx: ActionContext, query: string): string {
  const table = ctx.action.table!;
  const dml = sql.incrementalDml(table, ctx.existing!.columns.map((c) => c.name), query);
  return table.onSchemaChange === "IGNORE"
    ? dml
    : `-- onSchemaChange ${table.onSchemaChange}: the table's columns are compared with the query's before this\n${dml}`;
}

/**
 * Dataform's assertion: a view of the assertion query, failing when it has rows. The failing
 * rows (up to ASSERTION_SAMPLE_ROWS) are kept with the run id for review after the run.
 */
async function runAssertion(ctx: ActionContext): Promise<void> {
  const { action, connection, options, result } = ctx;
  const assertion = action.assertion!;
  const query = assertion.parentAction
    ? ctx.dialect.translateBuiltinAssertion(assertion.query, assertion.target)
    : ctx.dialect.translate(assertion.query, assertion.target);
  const view = sql.createOrReplaceView(assertion.target, query);
  if (!connection) {
    result.sql = [view, sql.countRows(assertion.target)];
    return;
  }
  await connection.run(view);
  const reader = await connection.runAndReadAll(sql.countRows(assertion.target));
  const failing = Number(reader.getRows()[0][0]);
  result.rowsAffected = failing;
  if (failing === 0) return;
  await keepFailingRows(ctx, connection, options, action.name, assertion.target);
  throw new ActionFailure(
    `assertion failed: ${failing} row${failing === 1 ? "" : "s"} returned by ${action.name}; ` +
      `see ${options.metaSchema}.assertion_failures where run_id = '${options.runId}'`,
  );
}

async function keepFailingRows(
  ctx: ActionContext,
  connection: DuckDBConnection,
  options: ExecuteOptions,
  action: string,
  target: Target,
): Promise<void> {
  const failures = quoteQualified(ctx.catalog, options.metaSchema, "assertion_failures");
  await connection.run(
    `insert into ${failures} (run_id, assertion, row_number, row_json, recorded_at)
     select ${quoteLiteral(options.runId)}, ${quoteLiteral(action)}, row_number() over (), to_json(failing), now()
     from (select * from ${sql.qualified(target)} limit ${ASSERTION_SAMPLE_ROWS}) as failing`,
  );
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

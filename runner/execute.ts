import { existsSync } from "node:fs";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { Database } from "./database.ts";
import type { Dialect } from "./dialect.ts";
import { UserError, messageOf } from "./errors.ts";
import type { PlannedAction } from "./plan.ts";
import { relationExists, relationKey, type RelationState } from "./state.ts";
import { actionTasks, addColumn, dropColumn, incrementalDml, qualified, type ActionTasks, type Task } from "./statements.ts";
import { META_SCHEMA, keepFailingRows, type ActionResult, type ActionStatus } from "./results.ts";
import { inTransaction } from "./transaction.ts";

export interface ExecuteOptions {
  runId: string;
  fullRefresh?: boolean;
  /** Incremental actions to rebuild in full without --full-refresh, each with the note that says why. */
  rebuild?: ReadonlyMap<string, string>;
  concurrency: number;
  onResult?: (result: ActionResult) => void;
}

/**
 * Runs planned actions on DuckDB with Dataform's scheduling (a null `db` is a dry run, which
 * runs nothing and reports each action's tasks): an action starts once everything
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
  const connections: Live[] = [];
  const concurrency = db ? Math.max(1, options.concurrency) : 1;
  if (db) for (let i = 0; i < concurrency; i++) connections.push({ db, connection: await db.connect() });
  const declaredSourcesSeen = new Set<string>();

  const finish = (result: ActionResult) => {
    results.set(result.name, result);
    options.onResult?.(result);
  };

  const runOne = async (action: PlannedAction, live: Live | undefined): Promise<ActionResult> => {
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
    const existing = state.get(relationKey(action.target.database || catalog, action.target.schema, action.target.name));
    try {
      if (live) await checkDeclaredSources(live.connection, action, live.db, declaredSourcesSeen);
      const rebuild = options.fullRefresh ? undefined : options.rebuild?.get(action.name);
      const planned = actionTasks(action, { dialect, existing, fullRefresh: options.fullRefresh || rebuild !== undefined });
      if ("mode" in planned) result.mode = planned.mode;
      if (rebuild !== undefined && planned.mode === "full" && existing) result.notes.push(rebuild);
      result.notes.push(...planned.notes);
      // A dry run shows the tasks a run would run, as they are before any schema change.
      if (live) await runTasks({ action, options, catalog, result }, live.connection, planned);
      else result.sql = planned.tasks.map((task) => task.sql);
    } catch (error) {
      result.status = "failed";
      result.error = { message: messageOf(error), file: action.fileName };
      // An operation may have opened a transaction of its own; the next action on this
      // connection must not inherit it.
      await live?.connection.run("rollback").catch(() => undefined);
    }
    result.seconds = round((performance.now() - started) / 1000);
    return result;
  };

  try {
    await schedule(plan, concurrency, results, finish, async (action, slot) => runOne(action, connections[slot]));
  } finally {
    for (const c of connections) c.connection.closeSync();
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
            finish(
              action.disabled ? { ...result, status: "disabled", notes: [`disabled; ${blocker} ${outcome(status)} above it`] } : result,
            );
            progressed = true;
            continue;
          }
          if (freeSlots.length === 0) continue;
          pending.splice(i--, 1);
          const slot = freeSlots.shift()!;
          running++;
          run(action, slot).then((result) => {
            running--;
            freeSlots.push(slot);
            finish(result);
            pump();
          }, reject);
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

async function checkDeclaredSources(connection: DuckDBConnection, action: PlannedAction, db: Database, seen: Set<string>): Promise<void> {
  for (const declaration of action.declarations) {
    const t = declaration.target;
    const database = t.database || db.catalog;
    const key = relationKey(database, t.schema, t.name);
    if (seen.has(key)) continue;
    if (!(await relationExists(connection, database, t.schema, t.name))) {
      const file = db.fileOf(database);
      const where = database === db.catalog ? `${t.schema}.${t.name}` : `${database}.${t.schema}.${t.name}`;
      throw new UserError(
        `declared source ${where} (${declaration.fileName}) does not exist in ${file}` +
          `${existsSync(file) ? "" : " (no such file yet)"}; load or create it before running ${action.name}`,
      );
    }
    seen.add(key);
  }
}

/** A connection of the run and the database it belongs to; a dry run has neither. */
interface Live {
  db: Database;
  connection: DuckDBConnection;
}

interface ActionContext {
  action: PlannedAction;
  options: ExecuteOptions;
  catalog: string;
  result: ActionResult;
}

/** Runs an action's tasks, in one transaction when they write a table. */
async function runTasks(ctx: ActionContext, connection: DuckDBConnection, planned: ActionTasks): Promise<void> {
  const run = async () => {
    for (const task of planned.tasks) await runTask(ctx, connection, task);
  };
  if (planned.transactional) await inTransaction(connection, run);
  else await run();
}

async function runTask(ctx: ActionContext, connection: DuckDBConnection, task: Task): Promise<void> {
  const { result } = ctx;
  switch (task.kind) {
    case "statement":
      await connection.run(task.sql);
      return;
    case "main": {
      const reader = await connection.runAndReadAll(task.sql);
      result.rowsAffected = affectedRows(reader.columnNames(), reader.getRows());
      return;
    }
    case "incremental":
      result.rowsAffected = await runIncrementalDml(ctx, connection, task);
      return;
    case "assertion":
      return checkAssertion(ctx, connection, task);
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
async function runIncrementalDml(
  ctx: ActionContext,
  connection: DuckDBConnection,
  { table, query, columns: existing }: Extract<Task, { kind: "incremental" }>,
): Promise<number | null> {
  let columns = existing;
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
      throw new UserError(`schema mismatch with onSchemaChange FAIL: ${describe}`);
    }
    if (table.onSchemaChange === "EXTEND" && removed.length > 0) {
      throw new UserError(`column removals are not allowed with onSchemaChange EXTEND: ${describe}`);
    }
    if (table.onSchemaChange === "SYNCHRONIZE") {
      const keys = new Set(table.uniqueKey.map(lower));
      const keyColumns = removed.filter((c) => keys.has(lower(c)));
      if (keyColumns.length > 0) {
        throw new UserError(`cannot drop columns [${keyColumns.join(", ")}]: they are part of the unique key`);
      }
      for (const c of removed) await connection.run(dropColumn(table.target, c));
      columns = columns.filter((c) => incomingNames.has(lower(c)));
    }
    for (const c of added) await connection.run(addColumn(table.target, c));
    columns = [...columns, ...added.map((c) => c.name)];
    if (added.length > 0 || removed.length > 0) ctx.result.notes.push(`onSchemaChange ${table.onSchemaChange}: ${describe}`);
  }
  const reader = await connection.runAndReadAll(incrementalDml(table, columns, query));
  return affectedRows(reader.columnNames(), reader.getRows());
}

/**
 * Dataform's assertion: a view of the assertion query, failing when it has rows. Some of the
 * failing rows are kept with the run id for review after the run.
 */
async function checkAssertion(
  ctx: ActionContext,
  connection: DuckDBConnection,
  { sql, target }: Extract<Task, { kind: "assertion" }>,
): Promise<void> {
  const { action, options, result } = ctx;
  const reader = await connection.runAndReadAll(sql);
  const failing = Number(reader.getRows()[0][0]);
  result.rowsAffected = failing;
  if (failing === 0) return;
  await keepFailingRows(connection, ctx.catalog, options.runId, action.name, qualified(target));
  throw new UserError(
    `assertion failed: ${failing} row${failing === 1 ? "" : "s"} returned by ${action.name}; ` +
      `see ${META_SCHEMA}.assertion_failures where run_id = '${options.runId}'`,
  );
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

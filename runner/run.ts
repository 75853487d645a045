import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { assertCompiled, compileProject, type CompileOptions } from "./compile.ts";
import { Database, projectDatabase } from "./database.ts";
import { Dialect } from "./dialect.ts";
import { executePlan } from "./execute.ts";
import type { CompiledGraph } from "./graph.ts";
import { planRun, type PlannedAction, type Selection } from "./plan.ts";
import { quoteQualified } from "./quote.ts";
import { appendHistory, ensureMetaTables, writeResultsFile, type ActionResult, type RunResults } from "./results.ts";
import { ensureSourceChanges, rebuildsAfterSourceChanges } from "./sourceChanges.ts";
import { readWarehouseState, type RelationState } from "./state.ts";

export interface RunOptions extends CompileOptions, Selection {
  /** Told what the run leaves out (BigQuery-only action kinds); default: stderr. */
  warn?: (message: string) => void;
  database?: string;
  fullRefresh?: boolean;
  dryRun?: boolean;
  concurrency?: number;
  /** Where run_results.json goes (default: the project directory). */
  resultsFile?: string;
  onResult?: (result: ActionResult) => void;
}

/**
 * `duckform run`: compile, select, then execute on the project's DuckDB database, writing
 * run_results.json and appending to duckform_meta.run_history. A dry run opens nothing for writing
 * and creates no file.
 */
export async function runProject(projectDirArg: string, options: RunOptions = {}): Promise<RunResults> {
  const projectDir = resolve(projectDirArg);
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const graph = compileProject(projectDir, options);
  assertCompiled(graph);
  const plan = planRun(graph, options);
  const unsupported = [...(graph.notebooks ?? []), ...(graph.dataPreparations ?? [])];
  if (unsupported.length > 0) {
    (options.warn ?? ((m: string) => process.stderr.write(`${m}\n`)))(
      `duckform: skipping ${unsupported.length} notebook/data preparation action(s), which need BigQuery: ` +
        unsupported.map((a) => a.fileName).join(", "),
    );
  }
  const dialect = new Dialect(graph);
  const { file, catalog } = projectDatabase(projectDir, options.database, graph.projectConfig.defaultDatabase);
  const runId = randomUUID();

  const dryRunWithoutFile = options.dryRun && !existsSync(file);
  const db = dryRunWithoutFile ? null : await Database.open(file, catalog, { readOnly: options.dryRun });
  let actions: ActionResult[];
  try {
    if (db) await attachOtherDatabases(db, graph, plan, options.dryRun);
    let state = new Map<string, RelationState>();
    let rebuild = new Map<string, string>();
    if (db) {
      state = await db.withConnection(async (connection) => {
        if (!options.dryRun) {
          await ensureMetaTables(connection, catalog);
          await ensureSourceChanges(connection, catalog);
          await createSchemas(
            connection,
            graph,
            plan.filter((a) => !a.disabled).map((a) => a.target),
          );
        }
        rebuild = await rebuildsAfterSourceChanges(connection, catalog, graph, plan);
        return readWarehouseState(connection);
      });
    }
    actions = await executePlan(options.dryRun ? null : db, plan, state, dialect, {
      runId,
      fullRefresh: options.fullRefresh,
      rebuild,
      concurrency: options.concurrency ?? availableParallelism(),
      onResult: options.onResult,
    });
    const run: RunResults = {
      runId,
      projectDir,
      dataformCoreVersion: graph.dataformCoreVersion,
      database: db ? file : null,
      startedAt,
      seconds: Math.round(performance.now() - started) / 1000,
      status: actions.some((a) => a.status === "failed") ? "failed" : "success",
      fullRefresh: !!options.fullRefresh,
      dryRun: !!options.dryRun,
      actions,
    };
    if (!options.dryRun) {
      await db!.withConnection((connection) => appendHistory(connection, catalog, run));
      writeResultsFile(options.resultsFile ?? join(projectDir, "run_results.json"), run);
    }
    return run;
  } finally {
    db?.close();
  }
}

/**
 * Targets in another database (a BigQuery project of its own: `database: "shared-data"`, or every
 * target under `projectSuffix`) live in `<database>.duckdb` beside the project's database file,
 * attached under that name. A database the run writes to is created; one it only reads is
 * attached when its file exists.
 */
async function attachOtherDatabases(db: Database, graph: CompiledGraph, plan: PlannedAction[], dryRun?: boolean): Promise<void> {
  const written = new Set(dryRun ? [] : plan.filter((a) => !a.disabled).map((a) => a.target.database));
  const all = new Set([...graph.declarations, ...graph.tables, ...graph.operations].map((a) => a.target.database));
  for (const name of new Set([...written, ...all])) {
    if (!name || name === db.catalog) continue;
    await db.attach(name, { readOnly: dryRun, create: written.has(name) });
  }
}

/** Creates every schema the selected actions write to, before any of them runs. */
async function createSchemas(
  connection: import("@duckdb/node-api").DuckDBConnection,
  graph: CompiledGraph,
  targets: { database: string; schema: string }[],
): Promise<void> {
  const seen = new Set<string>();
  for (const t of targets) {
    const schema = quoteQualified(t.database || graph.projectConfig.defaultDatabase, t.schema);
    if (seen.has(schema)) continue;
    seen.add(schema);
    await connection.run(`create schema if not exists ${schema}`);
  }
}

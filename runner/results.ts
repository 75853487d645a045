import { writeFileSync } from "node:fs";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { PlannedAction } from "./plan.ts";
import { quoteLiteral, quoteQualified } from "./quote.ts";

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

/** What `run_results.json` holds and what `--json` prints. */
export interface RunResults {
  runId: string;
  projectDir: string;
  /** The core that compiled the project (a pinned version, the project's own, or duckform's). */
  dataformCoreVersion: string;
  database: string | null;
  startedAt: string;
  seconds: number;
  status: "success" | "failed";
  fullRefresh: boolean;
  dryRun: boolean;
  actions: ActionResult[];
}

/** duckform's own tables live in this schema of the project's database. */
export const META_SCHEMA = "duckform_meta";

/** Creates the run-history and assertion-failure tables if they are missing. */
export async function ensureMetaTables(connection: DuckDBConnection, catalog: string): Promise<void> {
  // Fully qualified: a project whose catalog is also called "duckform" makes `duckform.x` ambiguous.
  await connection.run(`
    create schema if not exists ${quoteQualified(catalog, META_SCHEMA)};
    create table if not exists ${quoteQualified(catalog, META_SCHEMA, "run_history")} (
      run_id varchar, action varchar, type varchar, file_name varchar, status varchar,
      mode varchar, started_at timestamptz, seconds double, rows_affected bigint,
      error varchar, notes varchar[], full_refresh boolean, recorded_at timestamptz
    );
    create table if not exists ${quoteQualified(catalog, META_SCHEMA, "assertion_failures")} (
      run_id varchar, assertion varchar, row_number bigint, row_json json, recorded_at timestamptz
    );`);
}

/** Failing rows kept per failed assertion: enough to see the fault, never the whole table. */
const ASSERTION_SAMPLE_ROWS = 100;

/**
 * Keeps up to ASSERTION_SAMPLE_ROWS rows of a failed assertion (`relationSql`, its view) in
 * `duckform_meta.assertion_failures` with the run id; earlier runs' rows stay.
 */
export async function keepFailingRows(
  connection: DuckDBConnection,
  catalog: string,
  runId: string,
  assertion: string,
  relationSql: string,
): Promise<void> {
  await connection.run(
    `insert into ${quoteQualified(catalog, META_SCHEMA, "assertion_failures")} (run_id, assertion, row_number, row_json, recorded_at)
     select ${quoteLiteral(runId)}, ${quoteLiteral(assertion)}, row_number() over (), to_json(failing), now()
     from (select * from ${relationSql} limit ${ASSERTION_SAMPLE_ROWS}) as failing`,
  );
}

/** Appends one row per action to `duckform_meta.run_history`, in one transaction. */
export async function appendHistory(connection: DuckDBConnection, catalog: string, run: RunResults): Promise<void> {
  if (run.actions.length === 0) return;
  const appender = await connection.createAppender("run_history", META_SCHEMA, catalog);
  try {
    for (const a of run.actions) {
      appender.appendVarchar(run.runId);
      appender.appendVarchar(a.name);
      appender.appendVarchar(a.type);
      appender.appendVarchar(a.fileName);
      appender.appendVarchar(a.status);
      if (a.mode) appender.appendVarchar(a.mode);
      else appender.appendNull();
      if (a.startedAt) appender.appendVarchar(a.startedAt);
      else appender.appendNull();
      appender.appendDouble(a.seconds);
      if (a.rowsAffected === null) appender.appendNull();
      else appender.appendBigInt(BigInt(a.rowsAffected));
      if (a.error) appender.appendVarchar(a.error.message);
      else appender.appendNull();
      appender.appendVarchar(`[${a.notes.map((n) => JSON.stringify(n)).join(", ")}]`);
      appender.appendBoolean(run.fullRefresh);
      appender.appendVarchar(new Date().toISOString());
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

export function writeResultsFile(path: string, run: RunResults): void {
  writeFileSync(path, JSON.stringify(run, null, 2) + "\n");
}

/** One line per action as the run goes, in the spirit of `dataform run`'s output. */
export function describeResult(result: ActionResult): string {
  const what =
    result.type === "assertion"
      ? { success: "Assertion passed", failed: "Assertion failed", skipped: "Skipped", disabled: "Disabled" }
      : result.type === "operation"
        ? { success: "Operation completed", failed: "Operation failed", skipped: "Skipped", disabled: "Disabled" }
        : {
            success: result.type === "view" ? "View created" : "Table created",
            failed: "Failed",
            skipped: "Skipped",
            disabled: "Disabled",
          };
  const detail = [
    result.type === "incremental" && result.mode ? `incremental, ${result.mode === "full" ? "rebuilt" : "updated"}` : result.type,
  ];
  if (result.status === "success" || result.status === "failed") detail.push(`${result.seconds.toFixed(2)}s`);
  if (result.rowsAffected !== null && result.type !== "assertion") detail.push(`${result.rowsAffected} rows`);
  let line = `${what[result.status]}: ${result.name} [${detail.join(", ")}]`;
  for (const note of result.notes) line += `\n    ${note}`;
  if (result.error) line += `\n    ${result.error.file}: ${result.error.message.replace(/\n/g, "\n    ")}`;
  return line;
}

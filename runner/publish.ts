import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { assertCompiled, compileProject, type CompileOptions } from "./compile.ts";
import { Database, projectDatabase } from "./database.ts";
import { inTransaction } from "./transaction.ts";
import { UserError, messageOf } from "./errors.ts";
import { targetName, type CompiledGraph } from "./graph.ts";
import { quoteIdent, quoteLiteral, quoteQualified } from "./quote.ts";
import { META_SCHEMA } from "./results.ts";

/** The schema a BI tool reads: copied whole, views materialized as tables. */
export const GOLD_SCHEMA = "gold";
/**
 * Where gold lands in the published file. A client opens `gold.duckdb` as catalog `gold`, and
 * with a schema `gold` in it too, DuckDB rejects `gold.dim_users` as "Ambiguous reference to
 * catalog or schema". In `main`, both `dim_users` and `gold.dim_users` resolve.
 */
export const PUBLISHED_GOLD_SCHEMA = "main";
/** The quality tables a BI user charts, copied beside gold. */
const QUALITY_TABLES = ["run_history", "assertion_failures"];
/** The published file's own record of what it holds (one row per table). */
const MANIFEST_TABLE = "publish_manifest";
/** The catalog name the new snapshot is attached under while it is written. */
const STAGING = "duckform_publish";

export interface PublishOptions extends CompileOptions {
  database?: string;
  /** The published file (default: gold.duckdb beside the database). */
  to?: string;
}

export interface Manifest {
  runId: string;
  runStartedAt: string | null;
  publishedAt: string;
  source: string;
  file: string;
  tables: { schema: string; name: string; rows: number }[];
  /** Where the source's raw.load_ledger stood: entries, the newest load and when it landed. */
  ledger: { entries: number; lastLoadId: string | null; lastLoadedAt: string | null } | null;
}

/** `gold.duckdb` beside the database, unless `--to` says otherwise. */
export function publishedPath(database: string, to?: string): string {
  return to ? resolve(to) : join(dirname(database), "gold.duckdb");
}

/** `gold.duckdb` → `gold.manifest.json`. */
export function manifestPath(published: string): string {
  return published.replace(/(\.duckdb)?$/, ".manifest.json");
}

/**
 * `duckform publish`: after a run whose assertions on gold all passed, copies the gold schema
 * (into the file's `main`) and the quality tables into a new file beside the target,
 * checkpoints it, and renames it over the target in one step. A reader that already has the
 * target open keeps reading its snapshot (POSIX keeps the old inode alive for it); a new
 * connection opens the new one; nobody sees a half-written table, and the pipeline never waits
 * for a reader's lock.
 */
export async function publishGold(projectDir: string, options: PublishOptions = {}): Promise<Manifest> {
  const graph = compileProject(resolve(projectDir), options);
  assertCompiled(graph);
  const { file: source, catalog } = projectDatabase(projectDir, options.database, graph.projectConfig.defaultDatabase);
  if (!existsSync(source)) throw new UserError(`not published: database ${source} does not exist; run duckform run first`);
  const target = publishedPath(source, options.to);
  if (target === source) throw new UserError(`not published: --to ${target} is the project's database itself`);

  const db = await Database.open(source, catalog, { readOnly: true });
  try {
    return await db.withConnection(async (connection) => {
      const run = await latestRun(connection);
      await assertGoldPassed(connection, graph, target);
      const staging = `${target}.next`;
      mkdirSync(dirname(target), { recursive: true });
      removeDatabaseFile(staging);
      await connection.run(`attach ${quoteLiteral(staging)} as ${quoteIdent(STAGING)}`);
      let manifest: Manifest;
      try {
        manifest = await copySnapshot(connection, catalog, source, target, run);
        await connection.run(`checkpoint ${quoteIdent(STAGING)}`);
      } catch (error) {
        await connection.run(`detach ${quoteIdent(STAGING)}`).catch(() => undefined);
        removeDatabaseFile(staging);
        throw error;
      }
      await connection.run(`detach ${quoteIdent(STAGING)}`);
      swapInto(staging, target);
      const json = manifestPath(target);
      writeFileSync(`${json}.next`, JSON.stringify(manifest, null, 2) + "\n");
      renameSync(`${json}.next`, json);
      return manifest;
    });
  } finally {
    db.close();
  }
}

async function latestRun(connection: DuckDBConnection): Promise<{ runId: string; startedAt: string | null }> {
  const history = quoteQualified(META_SCHEMA, "run_history");
  const reader = await connection
    .runAndReadAll(`select run_id, min(started_at)::varchar from ${history} group by run_id order by max(recorded_at) desc limit 1`)
    .catch(() => null);
  const row = reader?.getRows()[0];
  if (!row) throw new UserError("not published: the database has no run history; run duckform run first");
  return { runId: String(row[0]), startedAt: row[1] === null ? null : String(row[1]) };
}

/** Assertions that read a gold target, by action name. */
function goldAssertions(graph: CompiledGraph): string[] {
  return graph.assertions
    .filter((a) => !a.disabled)
    .filter((a) => a.parentAction?.schema === GOLD_SCHEMA || a.dependencyTargets.some((t) => t.schema === GOLD_SCHEMA))
    .map((a) => targetName(a.target));
}

/**
 * Each gold assertion's latest outcome must be a pass. A run with `--actions` that left some
 * out still publishes when the latest outcome of every gold assertion, from any run, passed.
 */
async function assertGoldPassed(connection: DuckDBConnection, graph: CompiledGraph, target: string): Promise<void> {
  const names = goldAssertions(graph);
  if (names.length === 0) return;
  const reader = await connection.runAndReadAll(
    `select action, arg_max(status, recorded_at), arg_max(run_id, recorded_at)
     from ${quoteQualified(META_SCHEMA, "run_history")}
     where type = 'assertion' and status <> 'disabled' and action in (${names.map(quoteLiteral).join(", ")})
     group by action`,
  );
  const latest = new Map(reader.getRows().map(([action, status, run]) => [String(action), { status: String(status), run: String(run) }]));
  const bad = names
    .filter((n) => latest.has(n) && latest.get(n)!.status !== "success")
    .map((n) => `${n} ${latest.get(n)!.status} in run ${latest.get(n)!.run}`);
  const never = names.filter((n) => !latest.has(n));
  if (bad.length === 0 && never.length === 0) return;
  const kept = existsSync(target) ? `${target} keeps its previous snapshot` : `nothing was written to ${target}`;
  const reasons = [...bad, ...never.map((n) => `${n} has never run`)];
  throw new UserError(`not published: ${reasons.length} gold assertion(s) did not pass (${reasons.join("; ")}); ${kept}`);
}

async function copySnapshot(
  connection: DuckDBConnection,
  catalog: string,
  source: string,
  target: string,
  run: { runId: string; startedAt: string | null },
): Promise<Manifest> {
  const relations = (
    await connection.runAndReadAll(
      `select schema_name, table_name from duckdb_tables() where database_name = $1 and (schema_name = $2 or (schema_name = $3 and table_name in (${QUALITY_TABLES.map(quoteLiteral).join(", ")})))
       union all
       select schema_name, view_name from duckdb_views() where database_name = $1 and schema_name = $2 and not internal
       order by 1, 2`,
      [catalog, GOLD_SCHEMA, META_SCHEMA],
    )
  ).getRows() as string[][];
  if (!relations.some(([schema]) => schema === GOLD_SCHEMA)) {
    throw new UserError(`not published: ${source} has no ${GOLD_SCHEMA} schema`);
  }
  const tables: Manifest["tables"] = [];
  return inTransaction(connection, async () => {
    await connection.run(`create schema ${quoteQualified(STAGING, META_SCHEMA)}`);
    for (const [schema, name] of relations) {
      const into = schema === GOLD_SCHEMA ? PUBLISHED_GOLD_SCHEMA : schema;
      // A gold view is materialized: what it reads (silver) is not in the published file.
      const reader = await connection.runAndReadAll(
        `create table ${quoteQualified(STAGING, into, name)} as select * from ${quoteQualified(catalog, schema, name)}`,
      );
      tables.push({ schema: into, name, rows: Number(reader.getRows()[0]?.[0] ?? 0) });
    }
    const manifest: Manifest = {
      runId: run.runId,
      runStartedAt: run.startedAt,
      publishedAt: new Date().toISOString(),
      source,
      file: target,
      tables,
      ledger: await ledgerPosition(connection, catalog),
    };
    await connection.run(
      `create table ${quoteQualified(STAGING, META_SCHEMA, MANIFEST_TABLE)} as
       select ${quoteLiteral(manifest.runId)} as run_id, ${quoteLiteral(manifest.publishedAt)}::timestamptz as published_at,
              ${quoteLiteral(JSON.stringify(manifest))}::json as manifest, t.* from (values ${tables
                .map((t) => `(${quoteLiteral(t.schema)}, ${quoteLiteral(t.name)}, ${t.rows})`)
                .join(", ")}) as t(schema_name, table_name, row_count)`,
    );
    return manifest;
  });
}

async function ledgerPosition(connection: DuckDBConnection, catalog: string): Promise<Manifest["ledger"]> {
  const reader = await connection
    .runAndReadAll(
      `select count(*), arg_max(_load_id, loaded_at), max(loaded_at)::varchar from ${quoteQualified(catalog, "raw", "load_ledger")}`,
    )
    .catch(() => null);
  const row = reader?.getRows()[0];
  if (!row) return null;
  return {
    entries: Number(row[0]),
    lastLoadId: row[1] === null ? null : String(row[1]),
    lastLoadedAt: row[2] === null ? null : String(row[2]),
  };
}

/**
 * The one step that replaces the snapshot. A stale write-ahead log beside the target would be
 * replayed onto the new file by the next reader, so it goes first (readers open read-only and
 * never write one). Windows refuses to rename over a file another process has open (DuckDB
 * opens without FILE_SHARE_DELETE): the new snapshot then stays at `<target>.next` and the user
 * is told to close the reader and publish again.
 */
function swapInto(staging: string, target: string): void {
  rmSync(`${target}.wal`, { force: true });
  try {
    renameSync(staging, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EPERM" || code === "EBUSY" || code === "EACCES") {
      throw new UserError(
        `not published: ${target} is open in another program and cannot be replaced (${code}); ` +
          `the new snapshot is at ${staging}: close the reader and run duckform publish again`,
      );
    }
    throw new UserError(`not published: cannot rename ${staging} to ${target}: ${messageOf(error)}`);
  }
}

function removeDatabaseFile(file: string): void {
  rmSync(file, { force: true });
  rmSync(`${file}.wal`, { force: true });
}

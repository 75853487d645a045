import type { DuckDBConnection } from "@duckdb/node-api";
import type { Database } from "../runner/database.ts";
import { Dialect } from "../runner/dialect.ts";
import { targetName, type CompiledGraph, type Target } from "../runner/graph.ts";
import { quoteLiteral, quoteQualified } from "../runner/quote.ts";
import { META_SCHEMA } from "../runner/results.ts";

/** Runs shown in the history charts and each assertion's history. */
export const HISTORY_RUNS = 30;
/** Failing rows shown per assertion and run (the runner keeps up to 100). */
const FAILING_ROWS_SHOWN = 20;

type Row = Record<string, unknown>;

/** Everything the report page shows, as JSON embedded in it. */
export interface ReportData {
  generatedAt: string;
  database: string;
  runs: Row[];
  lastRun: { runId: string; actions: Row[] } | null;
  assertions: AssertionReport[];
  actions: ActionNode[];
  reconciliation: {
    source: string;
    layers: { layer: string; tables: { name: string; rows: number | null; valid?: number; invalid?: number }[] }[];
  }[];
  layerRows: { layer: string; rows: number }[];
  quarantine: { total: number; byReason: Row[]; byFile: Row[] };
  ledger: { byStatus: Row[]; files: Row[] };
  enrichment: { messages: number; annotated: number; deadLetters: Row[]; runs: Row[] } | null;
}

export interface AssertionReport {
  name: string;
  fileName: string;
  description: string;
  sql: string;
  /** The actions it reads, by name (the model it checks first). */
  checks: string[];
  status: string;
  failingRows: { runId: string; recordedAt: string; rows: unknown[] }[];
  history: { runId: string; status: string; rows: number | null; seconds: number }[];
  /** Runs in a row, up to the last, in which it failed. */
  failedInARow: number;
  firstFailedAt: string | null;
}

export interface ActionNode {
  name: string;
  schema: string;
  type: string;
  fileName: string;
  description: string;
  tags: string[];
  sql: string;
  columns: { name: string; type: string; description: string }[];
  dependencies: string[];
  assertions: string[];
  rows: number | null;
}

/** The order of the layers in the lineage graph and the reconciliation. */
const LAYERS = ["raw", "seeds", "bronze", "silver", "enrichment", "gold"];

async function query(connection: DuckDBConnection, sql: string, params: (string | number)[] = []): Promise<Row[]> {
  const reader = await connection.runAndReadAll(sql, params);
  return reader.getRowObjectsJson() as Row[];
}

/** Whether `schema.table` exists in the database's own catalog. */
async function exists(connection: DuckDBConnection, catalog: string, schema: string, table: string): Promise<boolean> {
  const rows = await query(connection, `select 1 from duckdb_tables() where database_name = $1 and schema_name = $2 and table_name = $3`, [
    catalog,
    schema,
    table,
  ]);
  return rows.length > 0;
}

/** Reads the run history, the quality tables and the graph into what the report page shows. */
export async function gatherReport(db: Database, graph: CompiledGraph): Promise<ReportData> {
  return db.withConnection(async (c) => {
    const catalog = db.catalog;
    const history = quoteQualified(META_SCHEMA, "run_history");
    const hasHistory = await exists(c, catalog, META_SCHEMA, "run_history");
    const runs = hasHistory
      ? await query(
          c,
          `select run_id, min(started_at)::varchar as started_at, max(recorded_at)::varchar as recorded_at,
                  round(epoch(max(started_at + to_microseconds((seconds * 1e6)::bigint))) - epoch(min(started_at)), 3) as seconds,
                  count(*) filter (where status = 'success') as success, count(*) filter (where status = 'failed') as failed,
                  count(*) filter (where status = 'skipped') as skipped, count(*) filter (where status = 'disabled') as disabled,
                  bool_or(full_refresh) as full_refresh
           from ${history} group by run_id order by max(recorded_at) desc limit ${HISTORY_RUNS}`,
        )
      : [];
    runs.reverse();
    const lastRunId = runs.at(-1)?.run_id as string | undefined;
    const lastRun = lastRunId
      ? {
          runId: lastRunId,
          actions: await query(
            c,
            `select action as name, type, status, mode, started_at::varchar as started_at, epoch_ms(started_at) as started_ms, seconds, rows_affected as rows, error, notes, file_name
             from ${history} where run_id = $1 order by started_at nulls last, action`,
            [lastRunId],
          ),
        }
      : null;
    const dialect = new Dialect(graph);
    const actions = await actionNodes(c, catalog, graph, dialect);
    const assertions = hasHistory
      ? await assertionReports(
          c,
          graph,
          dialect,
          runs.map((r) => String(r.run_id)),
        )
      : [];
    const { reconciliation, layerRows } = reconcile(actions, graph, await bronzeValidity(c, actions));
    return {
      generatedAt: new Date().toISOString(),
      database: db.file,
      runs,
      lastRun,
      assertions,
      actions,
      reconciliation,
      layerRows,
      quarantine: await quarantine(c, catalog),
      ledger: await ledger(c, catalog),
      enrichment: await enrichment(c, catalog),
    };
  });
}

async function actionNodes(c: DuckDBConnection, catalog: string, graph: CompiledGraph, dialect: Dialect): Promise<ActionNode[]> {
  const columnRows = await query(
    c,
    `select schema_name, table_name, column_name, data_type from duckdb_columns() where database_name = $1 order by schema_name, table_name, column_index`,
    [catalog],
  );
  const columnTypes = new Map<string, { name: string; type: string }[]>();
  for (const r of columnRows) {
    const key = `${r.schema_name}.${r.table_name}`;
    if (!columnTypes.has(key)) columnTypes.set(key, []);
    columnTypes.get(key)!.push({ name: String(r.column_name), type: String(r.data_type) });
  }
  // Exact counts: duckdb_tables().estimated_size still counts rows an incremental MERGE replaced.
  const tables = await query(c, `select schema_name, table_name from duckdb_tables() where database_name = $1 and not internal`, [catalog]);
  const sizes = new Map<string, number>();
  if (tables.length > 0) {
    const counts = await query(
      c,
      tables
        .map(
          (t) =>
            `select ${quoteLiteral(`${t.schema_name}.${t.table_name}`)} as key, count(*) as n from ${quoteQualified(String(t.schema_name), String(t.table_name))}`,
        )
        .join("\nunion all\n"),
    );
    for (const r of counts) sizes.set(String(r.key), Number(r.n));
  }
  const assertionsOf = new Map<string, string[]>();
  for (const a of graph.assertions) {
    for (const t of a.parentAction ? [a.parentAction] : a.dependencyTargets) {
      const key = targetName(t);
      assertionsOf.set(key, [...(assertionsOf.get(key) ?? []), targetName(a.target)]);
    }
  }
  const node = (
    target: Target,
    type: string,
    fileName: string,
    sql: string,
    tags: string[],
    deps: Target[],
    descriptor: unknown,
  ): ActionNode => {
    const key = `${target.schema}.${target.name}`;
    const described = new Map(
      ((descriptor as { columns?: { path: string[]; description: string }[] })?.columns ?? []).map((col) => [
        col.path.join("."),
        col.description,
      ]),
    );
    const typed = columnTypes.get(key) ?? [];
    const columns = typed.length
      ? typed.map((col) => ({ ...col, description: described.get(col.name) ?? "" }))
      : [...described].map(([name, description]) => ({ name, type: "", description }));
    return {
      name: targetName(target),
      schema: target.schema,
      type,
      fileName,
      description: String((descriptor as { description?: string })?.description ?? ""),
      tags,
      sql,
      columns,
      dependencies: deps.map(targetName),
      assertions: assertionsOf.get(targetName(target)) ?? [],
      rows: sizes.get(key) ?? null,
    };
  };
  return [
    ...graph.declarations.map((d) =>
      node(d.target, "declaration", d.fileName, "", d.tags, [], (d as { actionDescriptor?: unknown }).actionDescriptor),
    ),
    ...graph.tables.map((t) =>
      node(
        t.target,
        t.enumType.toLowerCase(),
        t.fileName,
        dialect.translate(t.query, t.target).trim(),
        t.tags,
        t.dependencyTargets,
        t.actionDescriptor,
      ),
    ),
    ...graph.operations.map((o) =>
      node(
        o.target,
        "operation",
        o.fileName,
        o.queries.map((q) => dialect.translate(q, o.target).trim()).join(";\n\n"),
        o.tags,
        o.dependencyTargets,
        o.actionDescriptor,
      ),
    ),
  ];
}

async function assertionReports(c: DuckDBConnection, graph: CompiledGraph, dialect: Dialect, runIds: string[]): Promise<AssertionReport[]> {
  if (runIds.length === 0) return [];
  const history = await query(
    c,
    `select action, run_id, status, rows_affected, seconds, recorded_at::varchar as recorded_at
     from ${quoteQualified(META_SCHEMA, "run_history")} where type = 'assertion' order by recorded_at`,
  );
  const failures = await query(
    c,
    `select assertion, run_id, min(recorded_at)::varchar as recorded_at, list(row_json::varchar order by row_number) as rows
     from (select *, row_number() over (partition by assertion, run_id order by row_number) as shown
           from ${quoteQualified(META_SCHEMA, "assertion_failures")})
     where shown <= ${FAILING_ROWS_SHOWN} group by assertion, run_id order by min(recorded_at) desc`,
  );
  const shownRuns = new Set(runIds);
  return graph.assertions
    .map((a) => {
      const name = targetName(a.target);
      const all = history.filter((h) => h.action === name);
      const recent = all.filter((h) => shownRuns.has(String(h.run_id)));
      let failedInARow = 0;
      for (let i = all.length - 1; i >= 0 && all[i].status === "failed"; i--) failedInARow++;
      const firstFailure = all.find((h) => h.status === "failed");
      return {
        name,
        fileName: a.fileName,
        description: String(a.actionDescriptor?.description ?? ""),
        sql: (a.parentAction ? dialect.translateBuiltinAssertion(a.query, a.target) : dialect.translate(a.query, a.target)).trim(),
        checks: (a.parentAction ? [a.parentAction] : a.dependencyTargets).map(targetName),
        status: String(all.at(-1)?.status ?? "not run"),
        // Every run's failing rows are kept in the database; the page shows those of the runs it charts.
        failingRows: failures
          .filter((f) => f.assertion === name && shownRuns.has(String(f.run_id)))
          .map((f) => ({
            runId: String(f.run_id),
            recordedAt: String(f.recorded_at),
            rows: (f.rows as string[]).map((r) => JSON.parse(r)),
          })),
        history: recent.map((h) => ({
          runId: String(h.run_id),
          status: String(h.status),
          rows: h.rows_affected === null ? null : Number(h.rows_affected),
          seconds: Number(h.seconds),
        })),
        failedInARow,
        firstFailedAt: firstFailure ? String(firstFailure.recorded_at) : null,
      };
    })
    .sort((x, y) => Number(y.status === "failed") - Number(x.status === "failed") || x.name.localeCompare(y.name));
}

/** Row counts per source, layer by layer: raw → bronze (valid/invalid) → silver → gold. */
function reconcile(actions: ActionNode[], graph: CompiledGraph, validity: Validity): Pick<ReportData, "reconciliation" | "layerRows"> {
  const byName = new Map(actions.map((a) => [a.name, a]));
  const dependents = new Map<string, string[]>();
  for (const a of actions) for (const d of a.dependencies) dependents.set(d, [...(dependents.get(d) ?? []), a.name]);
  const sources = graph.declarations.filter((d) => d.target.schema === "raw" && !["quarantine", "load_ledger"].includes(d.target.name));
  const reconciliation = sources.map((source) => {
    const reached = new Set<string>();
    const walk = (name: string) => {
      for (const next of dependents.get(name) ?? []) {
        if (reached.has(next)) continue;
        reached.add(next);
        walk(next);
      }
    };
    walk(targetName(source.target));
    const layers = ["bronze", "silver", "gold"].map((layer) => ({
      layer,
      tables: [...reached]
        .map((n) => byName.get(n)!)
        .filter((a) => a.schema === layer)
        .map((a) => ({ name: a.name.split(".").pop()!, rows: a.rows, ...validity.get(a.name) })),
    }));
    const raw = byName.get(targetName(source.target));
    return {
      source: source.target.name,
      layers: [{ layer: "raw", tables: [{ name: source.target.name, rows: raw?.rows ?? 0 }] }, ...layers],
    };
  });
  const layerRows = LAYERS.map((layer) => ({
    layer,
    rows: actions.filter((a) => a.schema === layer).reduce((sum, a) => sum + (a.rows ?? 0), 0),
  }));
  return { reconciliation, layerRows };
}

type Validity = Map<string, { valid: number; invalid: number }>;

/**
 * Valid and invalid rows of every bronze table with an is_valid column (bronze keeps both). Views
 * are left out: counting one runs its query, 2 s of the report's time on the 2 M-event warehouse
 * for stg_events__validated, whose table beside it has the same counts.
 */
async function bronzeValidity(c: DuckDBConnection, actions: ActionNode[]): Promise<Validity> {
  const validity: Validity = new Map();
  for (const a of actions.filter((x) => x.schema === "bronze" && x.type !== "view" && x.columns.some((col) => col.name === "is_valid"))) {
    const [row] = await query(
      c,
      `select count(*) filter (where is_valid) as valid, count(*) filter (where not is_valid or is_valid is null) as invalid
       from ${quoteQualified(a.schema, a.name.split(".").pop()!)}`,
    );
    validity.set(a.name, { valid: Number(row.valid), invalid: Number(row.invalid) });
  }
  return validity;
}

async function quarantine(c: DuckDBConnection, catalog: string): Promise<ReportData["quarantine"]> {
  if (!(await exists(c, catalog, "raw", "quarantine"))) return { total: 0, byReason: [], byFile: [] };
  const q = quoteQualified("raw", "quarantine");
  const [{ n }] = await query(c, `select count(*) as n from ${q}`);
  return {
    total: Number(n),
    byReason: await query(
      c,
      `select source_table, error as reason, count(*) as lines from ${q} group by all order by lines desc limit 200`,
    ),
    byFile: await query(c, `select source_table, _file as file, count(*) as lines from ${q} group by all order by lines desc limit 200`),
  };
}

async function ledger(c: DuckDBConnection, catalog: string): Promise<ReportData["ledger"]> {
  if (!(await exists(c, catalog, "raw", "load_ledger"))) return { byStatus: [], files: [] };
  const l = quoteQualified("raw", "load_ledger");
  return {
    byStatus: await query(
      c,
      `select source_table, status, count(*) as files, sum(rows_landed) as rows_landed, sum(rows_quarantined) as rows_quarantined from ${l} group by all order by all`,
    ),
    files: await query(
      c,
      `select source_table, file_name, status, rows_landed, rows_quarantined, bytes, loaded_at::varchar as loaded_at from ${l} order by loaded_at desc, file_name limit 1000`,
    ),
  };
}

async function enrichment(c: DuckDBConnection, catalog: string): Promise<ReportData["enrichment"]> {
  if (!(await exists(c, catalog, "enrichment", "enrichment_runs")) || !(await exists(c, catalog, "silver", "int_messages"))) return null;
  const e = (t: string) => quoteQualified("enrichment", t);
  const [coverage] = await query(
    c,
    `select (select count(*) from ${quoteQualified("silver", "int_messages")}) as messages,
            (select count(distinct message_key) from ${e("message_annotations")}) as annotated`,
  );
  return {
    messages: Number(coverage.messages),
    annotated: Number(coverage.annotated),
    deadLetters: await query(
      c,
      `select reason, count(*) as messages, max(attempts) as max_attempts from ${e("annotation_dead_letters")} group by reason order by messages desc`,
    ),
    runs: await query(
      c,
      `select run_id, task, provider, model, status, started_at::varchar as started_at, messages_done, messages_dead_lettered,
              input_tokens, output_tokens, cost_usd, is_dry_run
       from ${e("enrichment_runs")} order by started_at desc limit 50`,
    ),
  };
}

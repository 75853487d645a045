import type { DuckDBConnection } from "@duckdb/node-api";
import { Database } from "../runner/database.ts";
import { quoteQualified } from "../runner/quote.ts";
import { META_SCHEMA } from "../runner/results.ts";

export type StageStatus = "ok" | "skipped" | "failed";

/** One stage of one pipeline run: a row of duckform_meta.pipeline_runs. */
export interface StageRecord {
  runId: string;
  stage: string;
  status: StageStatus;
  startedAt: Date;
  endedAt: Date;
  /** Rows landed, quarantined, files failed, actions failed, messages annotated…: whatever the stage counts. */
  counts: Record<string, number>;
  /** What the stage did or why it was skipped, in words. */
  summary: string;
  error?: string;
  /** Inputs the next run compares against to know whether anything is new (a seeds digest…). */
  detail?: Record<string, unknown>;
}

const TABLE = "pipeline_runs";

function table(catalog: string): string {
  return quoteQualified(catalog, META_SCHEMA, TABLE);
}

async function ensure(connection: DuckDBConnection, catalog: string): Promise<void> {
  await connection.run(`
    create schema if not exists ${quoteQualified(catalog, META_SCHEMA)};
    create table if not exists ${table(catalog)} (
      run_id varchar, stage varchar, status varchar, started_at timestamptz, ended_at timestamptz,
      seconds double, rows_landed bigint, rows_quarantined bigint, files_failed bigint, actions_failed bigint,
      counts json, summary varchar, error varchar, detail json
    )`);
}

/**
 * Appends a stage's row as soon as the stage ends: the table is the pipeline's checkpoint, read by
 * the next run to tell what is new. The database is opened for this row alone, since every stage
 * opens and closes it itself.
 */
export async function recordStage(file: string, catalog: string, r: StageRecord): Promise<void> {
  const db = await Database.open(file, catalog);
  try {
    await db.withConnection(async (connection) => {
      await ensure(connection, catalog);
      const n = (k: string) => r.counts[k] ?? null;
      await connection.run(
        `insert into ${table(catalog)} values ($1, $2, $3, $4::timestamptz, $5::timestamptz, $6, $7, $8, $9, $10, $11::json, $12, $13, $14::json)`,
        [
          r.runId,
          r.stage,
          r.status,
          r.startedAt.toISOString(),
          r.endedAt.toISOString(),
          (r.endedAt.getTime() - r.startedAt.getTime()) / 1000,
          n("rows_landed"),
          n("rows_quarantined"),
          n("files_failed"),
          n("actions_failed"),
          JSON.stringify(r.counts),
          r.summary,
          r.error ?? null,
          JSON.stringify(r.detail ?? {}),
        ],
      );
    });
  } finally {
    db.close();
  }
}

/** Per stage: its last successful row (with the inputs it recorded), and when it last did work, ok or failed. */
export interface StageHistory {
  ok?: { endedAt: number; detail: Record<string, unknown> };
  workedAt?: number;
}

/**
 * What earlier runs left done. A stage that was skipped did no work; a failed one did (a failed
 * run still wrote run history the report shows), but is not done: the next run does it again.
 */
export async function stageHistory(file: string, catalog: string): Promise<Map<string, StageHistory>> {
  const history = new Map<string, StageHistory>();
  const db = await Database.open(file, catalog);
  try {
    await db.withConnection(async (connection) => {
      await ensure(connection, catalog);
      const reader = await connection.runAndReadAll(
        `select stage, status, epoch_ms(ended_at) as ended, detail::varchar as detail from ${table(catalog)}
         where status in ('ok', 'failed')
         qualify row_number() over (partition by stage, status = 'ok' order by ended_at desc) = 1`,
      );
      for (const row of reader.getRowObjectsJS()) {
        const h = history.get(String(row.stage)) ?? {};
        const ended = Number(row.ended);
        if (row.status === "ok") h.ok = { endedAt: ended, detail: JSON.parse(String(row.detail ?? "{}")) };
        h.workedAt = Math.max(h.workedAt ?? 0, ended);
        history.set(String(row.stage), h);
      }
    });
  } finally {
    db.close();
  }
  return history;
}

export interface Headline {
  messages: number | null;
  users: number | null;
  events: number | null;
  assertionsPassed: number;
  assertionsFailed: number;
}

/** The numbers the pipeline ends with: gold's row counts and the latest outcome of every assertion. */
export async function headline(file: string, catalog: string): Promise<Headline> {
  const db = await Database.open(file, catalog, { readOnly: true });
  try {
    return await db.withConnection(async (connection) => {
      const count = async (name: string): Promise<number | null> => {
        try {
          const r = await connection.runAndReadAll(`select count(*)::bigint as n from ${quoteQualified(catalog, "gold", name)}`);
          return Number(r.getRowObjectsJS()[0].n);
        } catch {
          return null; // a project without this table
        }
      };
      let passed = 0;
      let failed = 0;
      try {
        // The assertions of the last full run are the project's current ones (a deleted
        // assertion's old failure must not count); each at its latest outcome, which the run of
        // what reads enrichment may have updated since.
        const history = quoteQualified(catalog, META_SCHEMA, "run_history");
        const r = await connection.runAndReadAll(
          `with full_run as (
             select detail->>'runId' as run_id from ${table(catalog)}
             where stage = 'run' and status in ('ok', 'failed') order by ended_at desc limit 1
           )
           select status, count(*)::bigint as n from (
             select status from ${history}
             where type = 'assertion' and status in ('success', 'failed')
               and (not exists (from full_run) or action in (select action from ${history} where run_id = (select run_id from full_run)))
             qualify row_number() over (partition by action order by recorded_at desc) = 1
           ) group by status`,
        );
        for (const row of r.getRowObjectsJS()) {
          if (row.status === "success") passed = Number(row.n);
          else failed = Number(row.n);
        }
      } catch {
        // no run yet
      }
      return {
        messages: await count("fct_messages"),
        users: await count("dim_users"),
        events: await count("fct_user_interactions"),
        assertionsPassed: passed,
        assertionsFailed: failed,
      };
    });
  } finally {
    db.close();
  }
}

/**
 * Where raw.load_ledger stands (files landed or replaced, and the newest): compared with the
 * previous run's, it tells whether anything landed since, by this pipeline or a `duckform load`.
 */
export async function ledgerMark(file: string, catalog: string): Promise<string> {
  const db = await Database.open(file, catalog, { readOnly: true });
  try {
    return await db.withConnection(async (connection) => {
      try {
        const r = await connection.runAndReadAll(
          `select count(*)::bigint as n, max(loaded_at)::varchar as last from ${quoteQualified(catalog, "raw", "load_ledger")} where status in ('landed', 'replaced')`,
        );
        const row = r.getRowObjectsJS()[0];
        return `${row.n}@${row.last}`;
      } catch {
        return "no ledger";
      }
    });
  } finally {
    db.close();
  }
}

/**
 * `retention: { days: N }` on a source: on each pipeline run, its raw rows older than N days
 * (by the time the row itself carries, else when it landed) go, with every row derived from them
 * (found in the catalog by their _file and _line, then by message_key) and its quarantined
 * lines, in one transaction, recorded in duckform_meta.privacy_audit.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { retentionOf, type SourceConfig } from "../pipeline/config.ts";
import { Database } from "../runner/database.ts";
import { quoteIdent, quoteLiteral, quoteQualified } from "../runner/quote.ts";
import { recordSourceChange } from "../runner/sourceChanges.ts";
import { inTransaction } from "../runner/transaction.ts";
import { recordAudit } from "./audit.ts";
import { subtractFromLedger, type TableSweep } from "./sweep.ts";

/** Each kind's raw tables that age, and the payload field with the row's own time. */
const AGING: Partial<Record<SourceConfig["kind"], { tables: (s: SourceConfig) => string[]; field: string }>> = {
  ndjson: { tables: (s) => [(s as { table: string }).table], field: "occurred_at" },
  telegram: { tables: () => ["telegram_messages"], field: "sent_at" },
  // Users and channels are not dated: they stay as long as the workspace is loaded.
  slack: { tables: () => ["slack_messages"], field: "sent_at" },
};

const DOOMED = "duckform_retention_rows";

export interface RetentionOutcome {
  source: string;
  days: number;
  cutoff: string;
  tables: Record<string, { deleted: number; redacted: number }>;
}

/** Applies every source's retention to the database; returns what each deleted (sources without retention are left out). */
export async function applyRetention(
  file: string,
  catalog: string,
  sources: SourceConfig[],
  now = new Date(),
): Promise<RetentionOutcome[]> {
  const aging = sources.filter((s) => retentionOf(s) && AGING[s.kind]);
  if (aging.length === 0) return [];
  const db = await Database.open(file, catalog);
  try {
    return await db.withConnection((connection) =>
      inTransaction(connection, async () => {
        const out: RetentionOutcome[] = [];
        for (const source of aging) {
          const days = retentionOf(source)!.days;
          const cutoff = new Date(now.getTime() - days * 86_400_000).toISOString();
          const tables: RetentionOutcome["tables"] = {};
          for (const table of AGING[source.kind]!.tables(source)) {
            for (const s of await expire(connection, catalog, table, AGING[source.kind]!.field, cutoff)) {
              const name = `${s.schema}.${s.table}`;
              tables[name] = { deleted: (tables[name]?.deleted ?? 0) + s.deleted, redacted: 0 };
            }
          }
          const name = source.name ?? source.kind;
          if (Object.keys(tables).length > 0) {
            await recordAudit(connection, catalog, {
              action: "retention",
              subjectHash: null,
              source: name,
              rows: tables,
              detail: { days, cutoff },
            });
          }
          out.push({ source: name, days, cutoff, tables });
        }
        return out;
      }),
    );
  } finally {
    db.close();
  }
}

/** The retention stage's line: per source, its raw rows that aged out, and all rows with what derived from them. */
export function describeRetention(expired: RetentionOutcome[]): { deleted: number; summary: string } {
  const sum = (o: RetentionOutcome, raw: boolean) =>
    Object.entries(o.tables).reduce((n, [table, t]) => n + (!raw || table.startsWith("raw.") ? t.deleted : 0), 0);
  return {
    deleted: expired.reduce((n, o) => n + sum(o, false), 0),
    summary: expired
      .map(
        (o) =>
          `${o.source} ${sum(o, true).toLocaleString("en")} raw rows older than ${o.days} days (${sum(o, false).toLocaleString("en")} with what derived from them)`,
      )
      .join("; "),
  };
}

async function columnsOf(connection: DuckDBConnection, catalog: string): Promise<Map<string, Set<string>>> {
  const reader = await connection.runAndReadAll(
    `select c.schema_name, c.table_name, c.column_name from duckdb_columns() c
     join duckdb_tables() t on t.database_name = c.database_name and t.schema_name = c.schema_name and t.table_name = c.table_name
     where c.database_name = $1`,
    [catalog],
  );
  const out = new Map<string, Set<string>>();
  for (const [schema, table, column] of reader.getRows() as string[][]) {
    const key = `${schema}.${table}`;
    if (!out.has(key)) out.set(key, new Set());
    out.get(key)!.add(column);
  }
  return out;
}

/** Deletes one raw table's rows older than the cutoff and everything derived from them. */
async function expire(connection: DuckDBConnection, catalog: string, table: string, field: string, cutoff: string): Promise<TableSweep[]> {
  const columns = await columnsOf(connection, catalog);
  if (!columns.has(`raw.${table}`)) return [];
  const raw = quoteQualified(catalog, "raw", table);
  const doomed = quoteIdent(DOOMED);
  const at = `coalesce(try_cast(payload ->> ${quoteLiteral(field)} as timestamptz), _loaded_at)`;
  await connection.run(
    `create or replace temp table ${doomed} as select _file, _line from ${raw} where ${at} < ${quoteLiteral(cutoff)}::timestamptz`,
  );
  try {
    const sweeps: TableSweep[] = [];
    const byFile = new Map<string, number>();
    for (const [file, n] of (await connection.runAndReadAll(`select _file, count(*) from ${doomed} group by _file`)).getRows()) {
      byFile.set(String(file), Number(n));
    }
    const lines = `(_file, _line) in (select _file, _line from ${doomed})`;
    // Derived rows first: their message keys reach the tables that hold no _file (the enrichment cache, gold bridges).
    const keys = new Set<string>();
    const derived = [...columns].filter(([name, c]) => !name.startsWith("raw.") && c.has("_file") && c.has("_line"));
    for (const [name, c] of derived) {
      if (!c.has("message_key")) continue;
      const t = quoteQualified(catalog, ...name.split("."));
      for (const [k] of (await connection.runAndReadAll(`select message_key from ${t} where ${lines}`)).getRows()) keys.add(String(k));
    }
    const record = (name: string, deleted: number, files = new Map<string, number>()) => {
      if (deleted > 0) sweeps.push({ schema: name.split(".")[0], table: name.split(".")[1], deleted, redacted: 0, byFile: files });
    };
    for (const [name, c] of columns) {
      if (name.startsWith("raw.")) continue;
      const t = quoteQualified(catalog, ...name.split("."));
      const conditions = [
        c.has("_file") && c.has("_line") ? lines : null,
        c.has("message_key") && keys.size > 0 ? `message_key in (${[...keys].map(quoteLiteral).join(", ")})` : null,
      ];
      const where = conditions.filter(Boolean).join(" or ");
      if (where) record(name, (await connection.run(`delete from ${t} where ${where}`)).rowsChanged);
    }
    const expired = (await connection.run(`delete from ${raw} where ${lines}`)).rowsChanged;
    record(`raw.${table}`, expired, byFile);
    // Incremental tables cannot see rows taken out: the next run rebuilds those downstream (runner/sourceChanges.ts).
    if (expired > 0) await recordSourceChange(connection, `raw.${table}`, `retention: rows before ${cutoff}`);
    if (columns.has("raw.quarantine")) {
      const q = quoteQualified(catalog, "raw", "quarantine");
      record(
        "raw.quarantine",
        (await connection.run(`delete from ${q} where source_table = $1 and _loaded_at < $2::timestamptz`, [table, cutoff])).rowsChanged,
      );
    }
    await subtractFromLedger(connection, catalog, sweeps);
    return sweeps;
  } finally {
    await connection.run(`drop table if exists ${doomed}`).catch(() => undefined);
  }
}

import type { Table, Target } from "./graph.ts";
import { quoteIdent, quoteQualified } from "./quote.ts";

/**
 * DuckDB statements for each step of an action, after Dataform's ExecutionSql
 * (cli/api/dbadapters/execution_sql.ts), with its BigQuery scripting replaced by
 * statements DuckDB runs inside one transaction.
 */

export interface Column {
  name: string;
  type: string;
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
  const on = table.uniqueKey
    .map((key) => `dataform_dest.${quoteIdent(key)} = dataform_source.${quoteIdent(key)}`)
    .join(" and ");
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

import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { openProjectDatabase } from "./project.ts";
import { UserError } from "./errors.ts";
import { GOLD_SCHEMA } from "./publish.ts";
import { quoteIdent, quoteLiteral, quoteQualified } from "./quote.ts";

export interface ExportOptions {
  database?: string;
  /** The folder the Parquet files go to. */
  out: string;
  /** Gold tables to export (default: all). */
  tables?: string[];
}

export interface ExportedTable {
  table: string;
  rows: number;
  /** A file, or a folder of `<column>_month=YYYY-MM/` partitions. */
  path: string;
  partitionedBy: string | null;
}

/**
 * `duckform export --format parquet`: every gold table (or `--tables`) as Parquet under `out`.
 * A fact with a date column is hive-partitioned by its month (`fct_x/month=2024-03/…`), so a
 * reader that filters on a month reads one folder; the other tables are one file each. The
 * `month` partition column is derived: the table's own columns come back unchanged.
 */
export async function exportParquet(projectDir: string, options: ExportOptions): Promise<ExportedTable[]> {
  const out = resolve(options.out);
  const db = await openProjectDatabase({ project: projectDir, database: options.database, readOnly: true });
  try {
    return await db.withConnection(async (connection) => {
      const reader = await connection.runAndReadAll(
        `select t.table_name, list(c.column_name order by c.column_index) filter (where c.data_type = 'DATE'),
                list(c.column_name order by c.column_index) filter (where c.data_type in ('HUGEINT', 'UHUGEINT'))
         from (select table_name from duckdb_tables() where database_name = $1 and schema_name = $2
               union all
               select view_name from duckdb_views() where database_name = $1 and schema_name = $2 and not internal) as t
         join duckdb_columns() as c on c.database_name = $1 and c.schema_name = $2 and c.table_name = t.table_name
         group by t.table_name order by t.table_name`,
        [db.catalog, GOLD_SCHEMA],
      );
      const names = (list: unknown) => ((list as { items?: unknown[] } | null)?.items ?? []).map(String);
      const gold = new Map(reader.getRows().map(([name, dates, huge]) => [String(name), { dates: names(dates), huge: names(huge) }]));
      if (gold.size === 0) throw new UserError(`nothing to export: ${db.file} has no ${GOLD_SCHEMA} tables; run duckform run first`);
      const wanted = options.tables?.length ? options.tables : [...gold.keys()];
      const unknown = wanted.filter((t) => !gold.has(t));
      if (unknown.length > 0) {
        throw new UserError(`no such gold table: ${unknown.join(", ")} (there are: ${[...gold.keys()].join(", ")})`);
      }
      mkdirSync(out, { recursive: true });
      const exported: ExportedTable[] = [];
      for (const table of wanted) {
        const { dates, huge } = gold.get(table)!;
        // Parquet has no 128-bit integer and DuckDB would write a HUGEINT (what sum() of a BIGINT
        // gives) as DOUBLE; DECIMAL(38,0) keeps every digit.
        const replace = huge.length
          ? ` replace (${huge.map((c) => `${quoteIdent(c)}::decimal(38, 0) as ${quoteIdent(c)}`).join(", ")})`
          : "";
        const source = `(select *${replace} from ${quoteQualified(GOLD_SCHEMA, table)})`;
        const fact = table.startsWith("fct_") && dates.length > 0;
        // An empty table has no partitions to write, and a folder with no files cannot be read
        // back; it becomes one file with its columns.
        const empty = fact && Number((await connection.runAndReadAll(`select count(*) from ${source}`)).getRows()[0][0]) === 0;
        const dateColumn = fact && !empty ? (dates.find((d) => d.endsWith("_date")) ?? dates[0]) : null;
        const path = join(out, dateColumn ? table : `${table}.parquet`);
        rmSync(path, { recursive: true, force: true });
        const copy = dateColumn
          ? `copy (select *, strftime(${quoteIdent(dateColumn)}, '%Y-%m') as month from ${source})
             to ${quoteLiteral(path)} (format parquet, partition_by (month))`
          : `copy ${source} to ${quoteLiteral(path)} (format parquet)`;
        const result = await connection.runAndReadAll(copy);
        exported.push({ table, rows: Number(result.getRows()[0]?.[0] ?? 0), path, partitionedBy: dateColumn });
      }
      return exported;
    });
  } finally {
    db.close();
  }
}

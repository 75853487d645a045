import type { DuckDBConnection } from "@duckdb/node-api";

/** A column of a relation, with its DuckDB type. */
export interface Column {
  name: string;
  type: string;
}

/** What the database holds for one relation before the run: its kind and columns. */
export interface RelationState {
  kind: "table" | "view";
  columns: Column[];
}

/** Key of a relation in the state map: `catalog.schema.name`. */
export function relationKey(catalog: string, schema: string, name: string): string {
  return `${catalog}.${schema}.${name}`;
}

/**
 * Reads every table and view of the attached catalogs with their columns in one pass, as
 * Dataform's `state()` does before building the execution graph.
 */
export async function readWarehouseState(connection: DuckDBConnection): Promise<Map<string, RelationState>> {
  const reader = await connection.runAndReadAll(`
    select c.database_name, c.schema_name, c.table_name, c.column_name, c.data_type,
           case when v.view_name is null then 'table' else 'view' end as kind
    from duckdb_columns() c
    left join duckdb_views() v
      on v.database_name = c.database_name and v.schema_name = c.schema_name and v.view_name = c.table_name
    where not c.internal
    order by c.database_name, c.schema_name, c.table_name, c.column_index`);
  const state = new Map<string, RelationState>();
  for (const [database, schema, table, column, type, kind] of reader.getRows() as string[][]) {
    const key = relationKey(database, schema, table);
    let relation = state.get(key);
    if (!relation) {
      relation = { kind: kind as "table" | "view", columns: [] };
      state.set(key, relation);
    }
    relation.columns.push({ name: column, type });
  }
  return state;
}

/** Whether a table or view exists now (for declared sources, checked just before a dependent runs). */
export async function relationExists(connection: DuckDBConnection, catalog: string, schema: string, name: string): Promise<boolean> {
  const reader = await connection.runAndReadAll(
    `select 1 from duckdb_tables() where database_name = $1 and schema_name = $2 and table_name = $3
     union all
     select 1 from duckdb_views() where database_name = $1 and schema_name = $2 and view_name = $3`,
    [catalog, schema, name],
  );
  return reader.currentRowCount > 0;
}

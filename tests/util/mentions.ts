import { Database } from "../../runner/database.ts";

/**
 * Every table and view of a database file whose rows mention any of `terms`, with the count: each
 * row cast whole to text (every column), searched case-insensitively for each term as a word
 * (not inside a longer one). An independent check of forget-user: a regular expression, not its
 * hashes.
 */
export async function mentionsIn(file: string, terms: string[]): Promise<Record<string, number>> {
  const db = await Database.open(file, "checked", { readOnly: true });
  try {
    return await db.withConnection(async (connection) => {
      const relations = (
        await connection.runAndReadAll(
          `select schema_name, table_name from duckdb_tables() where database_name = 'checked'
           union all select schema_name, view_name from duckdb_views() where database_name = 'checked' and not internal`,
        )
      ).getRows() as string[][];
      const found: Record<string, number> = {};
      const escape = (t: string) => t.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const pattern = `(^|[^\\pL\\pN_])(${terms.map(escape).join("|")})($|[^\\pL\\pN_])`;
      for (const [schema, name] of relations) {
        const reader = await connection.runAndReadAll(
          `select count(*) from "checked"."${schema}"."${name}" as row_ where regexp_matches(lower(row_::varchar), $1)`,
          [pattern],
        );
        const n = Number(reader.getRows()[0][0]);
        if (n > 0) found[`${schema}.${name}`] = n;
      }
      return found;
    });
  } finally {
    db.close();
  }
}

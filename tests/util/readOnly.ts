import { DuckDBInstance } from "@duckdb/node-api";
import { quoteQualified } from "../../runner/quote.ts";

/** Opens `file` read-only the way a BI tool does (catalog = the file's stem) and selects from every view. */
export async function selectEveryView(file: string): Promise<Record<string, number>> {
  const instance = await DuckDBInstance.create(file, { access_mode: "READ_ONLY" });
  try {
    const connection = await instance.connect();
    try {
      const views = (
        await connection.runAndReadAll("select schema_name, view_name from duckdb_views() where not internal order by all")
      ).getRows();
      const counts: Record<string, number> = {};
      for (const [schema, view] of views as string[][]) {
        const reader = await connection.runAndReadAll(`select count(*) from ${quoteQualified(schema, view)}`);
        counts[`${schema}.${view}`] = Number(reader.getRows()[0][0]);
      }
      return counts;
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

import { UserError } from "./errors.ts";
import { openProjectDatabase } from "./project.ts";
import { quoteQualified } from "./quote.ts";

/** The view definitions/quality/rejected_rows.sqlx builds. */
const VIEW = ["quality", "rejected_rows"] as const;

export interface RejectedRow {
  stage: string;
  source: string;
  file: string;
  line: number;
  reason: string;
  loadId: string;
  loadedAt: string;
}

export interface RejectedOptions {
  database?: string;
  /** Rows whose reason contains this text, case-insensitively (a validation code, a quarantine phrase, "duplicate"). */
  reason?: string;
  /** Rows of files whose name contains this text. */
  file?: string;
  limit?: number;
}

/**
 * `duckform rejected`: the rows of quality.rejected_rows, filtered, with the total before the
 * limit, so that a capped listing still says how many there are.
 */
export async function listRejected(projectDir: string, options: RejectedOptions = {}): Promise<{ rows: RejectedRow[]; total: number }> {
  const db = await openProjectDatabase({ project: projectDir, database: options.database, readOnly: true });
  try {
    return await db.withConnection(async (connection) => {
      const view = quoteQualified(db.catalog, ...VIEW);
      const exists = await connection.runAndReadAll(
        "select 1 from duckdb_views() where database_name = $1 and schema_name = $2 and view_name = $3",
        [db.catalog, ...VIEW],
      );
      if (exists.getRows().length === 0) {
        throw new UserError(`${db.file} has no ${VIEW.join(".")}: run duckform run (or duckform pipeline) first`);
      }
      const where = `where ($1::varchar is null or contains(lower(reason), lower($1))) and ($2::varchar is null or contains(_file, $2))`;
      const params = [options.reason ?? null, options.file ?? null];
      const total = Number((await connection.runAndReadAll(`select count(*) from ${view} ${where}`, params)).getRows()[0][0]);
      const reader = await connection.runAndReadAll(
        `select stage, source, _file, _line, reason, _load_id, _loaded_at::varchar from ${view} ${where}
         order by _loaded_at, source, _file, _line limit ${options.limit ?? 1000}`,
        params,
      );
      const rows = reader.getRows().map(([stage, source, file, line, reason, loadId, loadedAt]) => ({
        stage: String(stage),
        source: String(source),
        file: String(file),
        line: Number(line),
        reason: String(reason),
        loadId: String(loadId),
        loadedAt: String(loadedAt),
      }));
      return { rows, total };
    });
  } finally {
    db.close();
  }
}

import { existsSync, mkdirSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { UsageError, UserError, messageOf } from "./errors.ts";
import { quoteIdent, quoteLiteral } from "./quote.ts";

/** The environment variable with the key of `pseudonymize: true` (duckform.yaml). */
export const PSEUDONYM_KEY_VARIABLE = "DUCKFORM_PSEUDONYM_KEY";

/** The catalog name of a project without a defaultDatabase (v3: defaultProject). */
const DEFAULT_CATALOG = "duckform";

/**
 * The one answer to "which database does this project use": the catalog its compiled SQL names
 * (`defaultDatabase`, v3 `defaultProject`, else DEFAULT_CATALOG) and the file: `--database`,
 * else $DUCKFORM_DATABASE, else `<catalog>.duckdb` in the project directory. An empty
 * `--database` is what a script passes for an unset variable; writing to the default file
 * instead would be a guess.
 */
export function projectDatabase(
  projectDir: string,
  explicit: string | undefined,
  defaultDatabase: string | undefined,
): { file: string; catalog: string } {
  if (explicit !== undefined && explicit.trim() === "") {
    throw new UsageError("--database is empty: give a file name (is the variable you passed unset?)");
  }
  const catalog = defaultDatabase || DEFAULT_CATALOG;
  const chosen = explicit ?? process.env.DUCKFORM_DATABASE;
  return { file: chosen ? resolve(chosen) : join(resolve(projectDir), `${catalog}.duckdb`), catalog };
}

/**
 * Who holds the lock and what to do, without DuckDB's advice to open the file read-only,
 * which is no help to a command that must write and would also block the writer.
 */
function lockMessage(path: string, duckdbMessage: string): string {
  const holder = /lock is held in (.+?) \(PID (\d+)\)/.exec(duckdbMessage);
  const who = holder ? `process ${holder[2]} (${holder[1]})` : "another process";
  return (
    `database ${path} is in use by ${who}: wait for it to finish and run this again; ` +
    "BI tools and other readers should query the published copy of gold, not this file"
  );
}

/**
 * One DuckDB database file, attached under the catalog name the compiled SQL uses
 * (Dataform's defaultDatabase), so that three-part names `"db"."schema"."table"` resolve
 * whatever the file is called. Owns the DuckDB instance; close it in `finally`.
 */
export class Database {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly file: string,
    readonly catalog: string,
  ) {}

  /** Opens (creating if needed, unless read-only) `file`, attached as `catalog` (default: the file's stem). */
  static async open(file: string, catalog?: string, options: { readOnly?: boolean } = {}): Promise<Database> {
    const path = file === ":memory:" ? file : resolve(file);
    const name = catalog || (path === ":memory:" ? "memory" : basename(path).replace(/\.[^.]*$/, ""));
    if (path !== ":memory:" && !options.readOnly) mkdirSync(dirname(path), { recursive: true });
    const instance = await DuckDBInstance.create(":memory:");
    const db = new Database(instance, path, name);
    try {
      const connection = await instance.connect();
      try {
        await connection.run(`attach ${quoteLiteral(path)} as ${quoteIdent(name)}${options.readOnly ? " (read_only)" : ""}`);
        // The instance itself is in memory, which gives it no place to spill to; big sorts, joins
        // and temp tables spill beside the database file instead, as a file-backed DuckDB does.
        if (path !== ":memory:") {
          // Holding the write lock, nobody else can be spilling there: what is left is a killed run's.
          if (!options.readOnly) rmSync(`${path}.tmp`, { recursive: true, force: true });
          await connection.run(`set temp_directory = ${quoteLiteral(`${path}.tmp`)}`);
        }
      } finally {
        connection.closeSync();
      }
    } catch (error) {
      instance.closeSync();
      const message = messageOf(error);
      if (/lock/i.test(message)) throw new UserError(lockMessage(path, message));
      throw new UserError(`cannot open database ${path}: ${message}`);
    }
    return db;
  }

  /**
   * A new connection whose default catalog is this database. With $DUCKFORM_PSEUDONYM_KEY set,
   * the key is a session variable for `sql.pseudonym` (includes/sql.js): in the session, never in
   * compiled SQL, a view's text or run_results.json.
   */
  async connect(): Promise<DuckDBConnection> {
    const connection = await this.instance.connect();
    await connection.run(`use ${quoteIdent(this.catalog)}`);
    const key = process.env[PSEUDONYM_KEY_VARIABLE];
    if (key) await connection.run(`set variable duckform_pseudonym_key = ${quoteLiteral(key)}`);
    return connection;
  }

  /** Runs `work` on a fresh connection and closes it afterwards. */
  async withConnection<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const connection = await this.connect();
    try {
      return await work(connection);
    } finally {
      connection.closeSync();
    }
  }

  /**
   * Where a catalog's file is: this database's own, or `<catalog>.duckdb` beside it for a target
   * in another database (a BigQuery project of its own, `projectSuffix` included).
   */
  fileOf(catalog: string): string {
    return catalog === this.catalog ? this.file : join(dirname(this.file), `${catalog}.duckdb`);
  }

  /**
   * Attaches another catalog's file (see fileOf) under its name. With `create` a missing file is
   * created, for a database the run writes to; without, a missing file is left out, and what
   * reads from it fails with a message naming the file.
   */
  async attach(name: string, options: { readOnly?: boolean; create?: boolean } = {}): Promise<void> {
    const file = this.fileOf(name);
    if (!options.create && !existsSync(file)) return;
    const mode = options.readOnly ? " (read_only)" : "";
    try {
      await this.withConnection((c) => c.run(`attach if not exists ${quoteLiteral(file)} as ${quoteIdent(name)}${mode}`));
    } catch (error) {
      throw new UserError(`cannot attach ${file} as database ${name}: ${messageOf(error)}`);
    }
  }

  close(): void {
    this.instance.closeSync();
  }
}

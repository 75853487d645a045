import { existsSync, readFileSync, readdirSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { parse as parseYaml } from "yaml";
import type { Database } from "../../runner/database.ts";
import { UserError, messageOf } from "../../runner/errors.ts";
import { recordSourceChange } from "../../runner/sourceChanges.ts";
import { inTransaction } from "../../runner/transaction.ts";
import { quoteIdent, quoteLiteral, quoteQualified } from "../../runner/quote.ts";
import { parseCsv, type CsvRow } from "../csv.ts";
import { sweepSeed } from "../../privacy/forgotten.ts";

/** The schema seed tables land in. */
export const SEEDS_SCHEMA = "seeds";
const STAGE = "duckform_seed_stage";

export interface SeedResult {
  name: string;
  /** `seeds.<name>` */
  table: string;
  file: string;
  rows: number;
  columns: string[];
}

interface Seed {
  name: string;
  file: string;
  /** The path a user reads in an error: relative to the project. */
  shown: string;
  header: string[];
  rows: CsvRow[];
  types: Map<string, string>;
}

/**
 * Loads every `seeds/*.csv` of a project into `seeds.<name>`, the way dbt seeds work: columns
 * take the DuckDB types declared in `seeds/seeds.yaml` (`seeds: {<name>: {column_types: {col: TYPE}}}`),
 * undeclared ones stay VARCHAR, and an empty field is NULL. All seeds are replaced in one
 * transaction, so a bad value anywhere leaves every old table as it was; the UserError names the
 * file, line, column and value.
 */
export async function loadSeeds(db: Database, projectDir = "."): Promise<SeedResult[]> {
  const seeds = readSeeds(resolve(projectDir));
  return db.withConnection(async (connection) => {
    await checkTypes(connection, seeds);
    return inTransaction(connection, async () => {
      await connection.run(`create schema if not exists ${quoteIdent(SEEDS_SCHEMA)}`);
      const results: SeedResult[] = [];
      for (const seed of seeds) results.push(await loadSeed(connection, seed));
      return results;
    });
  });
}

function readSeeds(projectDir: string): Seed[] {
  const dir = join(projectDir, "seeds");
  if (!existsSync(dir)) throw new UserError(`${projectDir} has no seeds/ folder`);
  const declared = readDeclarations(join(dir, "seeds.yaml"), projectDir);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".csv"))
    .sort();
  for (const name of declared.keys()) {
    if (!files.includes(`${name}.csv`)) {
      throw new UserError(`seeds/seeds.yaml declares seed "${name}" but seeds/${name}.csv does not exist`);
    }
  }
  return files.map((f) => {
    const file = join(dir, f);
    const shown = relative(projectDir, file);
    const name = basename(f, ".csv");
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new UserError(`${shown}: a seed's file name becomes its table name, so it must be letters, digits and underscores`);
    }
    let rows: CsvRow[];
    try {
      rows = parseCsv(readFileSync(file, "utf8"));
    } catch (error) {
      throw new UserError(`${shown} ${messageOf(error)}`);
    }
    const [head, ...body] = rows;
    if (!head) throw new UserError(`${shown} is empty: a seed needs at least a header line`);
    const header = head.fields.map((h) => h.trim());
    const seen = new Set<string>();
    for (const column of header) {
      if (!column) throw new UserError(`${shown} line ${head.line}: a column has no name`);
      if (seen.has(column)) throw new UserError(`${shown} line ${head.line}: column "${column}" appears twice`);
      seen.add(column);
    }
    const types = declared.get(name) ?? new Map<string, string>();
    for (const column of types.keys()) {
      if (!seen.has(column)) {
        throw new UserError(`seeds/seeds.yaml declares column "${column}" for seed "${name}", but ${shown} has no such column`);
      }
    }
    for (const row of body) {
      if (row.fields.length !== header.length) {
        throw new UserError(`${shown} line ${row.line}: expected ${header.length} fields, found ${row.fields.length}`);
      }
    }
    return { name, file, shown, header, rows: body, types };
  });
}

/** `seeds.yaml` as seed name → column → type; a missing file declares nothing. */
function readDeclarations(file: string, projectDir: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  if (!existsSync(file)) return out;
  const shown = relative(projectDir, file);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UserError(`${shown} is not valid YAML: ${messageOf(error)}`);
  }
  const seeds = (doc as { seeds?: unknown } | null)?.seeds;
  if (seeds === undefined || seeds === null) return out;
  if (typeof seeds !== "object" || Array.isArray(seeds)) throw new UserError(`${shown}: "seeds" must be a map of seed name to settings`);
  for (const [name, settings] of Object.entries(seeds as Record<string, unknown>)) {
    const columnTypes = (settings as { column_types?: unknown } | null)?.column_types ?? {};
    if (typeof columnTypes !== "object" || columnTypes === null || Array.isArray(columnTypes)) {
      throw new UserError(`${shown}: seeds.${name}.column_types must be a map of column to DuckDB type`);
    }
    const types = new Map<string, string>();
    for (const [column, type] of Object.entries(columnTypes as Record<string, unknown>)) {
      // A type is SQL that cannot be quoted, so only the characters type names use may pass.
      if (typeof type !== "string" || !/^[A-Za-z][A-Za-z0-9_ ,()[\]]*$/.test(type.trim())) {
        throw new UserError(`${shown}: seeds.${name}.column_types.${column} must be a DuckDB type name, got ${JSON.stringify(type)}`);
      }
      types.set(column, type.trim());
    }
    out.set(name, types);
  }
  return out;
}

async function checkTypes(connection: DuckDBConnection, seeds: Seed[]): Promise<void> {
  for (const seed of seeds) {
    for (const [column, type] of seed.types) {
      try {
        await connection.run(`select cast(null as ${type})`);
      } catch (error) {
        throw new UserError(
          `seeds/seeds.yaml: seed "${seed.name}" column "${column}": ${JSON.stringify(type)} is not a DuckDB type (${messageOf(error)})`,
        );
      }
    }
  }
}

async function loadSeed(connection: DuckDBConnection, seed: Seed): Promise<SeedResult> {
  const stage = quoteIdent(STAGE);
  const columns = seed.header.map((c) => `${quoteIdent(c)} varchar`).join(", ");
  await connection.run(`create or replace temp table ${stage} (_line bigint, ${columns})`);
  try {
    const appender = await connection.createAppender(STAGE, null, "temp");
    try {
      for (const row of seed.rows) {
        appender.appendBigInt(BigInt(row.line));
        // dbt's rule: an empty field is NULL, whatever the column's type.
        for (const field of row.fields) field === "" ? appender.appendNull() : appender.appendVarchar(field);
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    for (const [column, type] of seed.types) {
      const col = quoteIdent(column);
      const reader = await connection.runAndReadAll(
        `select _line, ${col} from ${stage} where ${col} is not null and try_cast(${col} as ${type}) is null order by _line limit 1`,
      );
      const bad = reader.getRows()[0];
      if (bad) {
        const line = Number(bad[0]);
        throw new UserError(`${seed.shown} line ${line}, column ${column}: ${JSON.stringify(String(bad[1]))} is not a valid ${type}`);
      }
    }
    const select = seed.header
      .map((c) => (seed.types.has(c) ? `cast(${quoteIdent(c)} as ${seed.types.get(c)}) as ${quoteIdent(c)}` : quoteIdent(c)))
      .join(", ");
    const table = quoteQualified(SEEDS_SCHEMA, seed.name);
    const changed = await changesRows(connection, seed.name, table, `select ${select} from ${stage}`);
    await connection.run(`create or replace table ${table} as select ${select} from ${stage} order by _line`);
    // Rows that went or changed are a deletion incremental tables cannot see: the next run rebuilds those downstream.
    if (changed) await recordSourceChange(connection, `${SEEDS_SCHEMA}.${seed.name}`, `${seed.shown} changed`);
    await connection.run(`comment on table ${table} is ${quoteLiteral(`Seed loaded from ${seed.shown}`)}`);
    // A forgotten person stays forgotten when the seed is loaded again (privacy/forgotten.ts).
    const forgotten = await sweepSeed(connection, seed.name);
    return {
      name: seed.name,
      table: `${SEEDS_SCHEMA}.${seed.name}`,
      file: seed.file,
      rows: seed.rows.length - forgotten,
      columns: seed.header,
    };
  } finally {
    // After a failed statement the transaction is aborted and the rollback drops the stage anyway.
    await connection.run(`drop table if exists ${stage}`).catch(() => undefined);
  }
}

/**
 * Whether replacing `table` by `query` takes away or changes any row it holds. Compared as text,
 * so that other columns or types count as a change and no statement can fail inside the
 * transaction. A seed loaded for the first time takes away nothing.
 */
async function changesRows(connection: DuckDBConnection, name: string, table: string, query: string): Promise<boolean> {
  const exists = await connection.runAndReadAll(
    `select count(*)::int from information_schema.tables where table_schema = ${quoteLiteral(SEEDS_SCHEMA)} and table_name = ${quoteLiteral(name)}`,
  );
  if (Number(exists.getRows()[0]![0]) === 0) return false;
  const reader = await connection.runAndReadAll(
    `select exists (select old::varchar from ${table} as old except all select new::varchar from (${query}) as new)`,
  );
  return reader.getRows()[0]![0] === true;
}

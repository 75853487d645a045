import { existsSync } from "node:fs";
import type { DuckDBConnection } from "@duckdb/node-api";
import { assertCompiled, compileProject, type CompileOptions } from "./compile.ts";
import { Database, projectDatabase } from "./database.ts";
import { Dialect } from "./dialect.ts";
import { messageOf } from "./errors.ts";

export interface TestResult {
  name: string;
  fileName: string;
  successful: boolean;
  messages: string[];
}

/**
 * `duckform test`: runs each `type: "test"` action's query (the model with its inputs inlined
 * by core) and its expected output, and compares them as Dataform's `test` does: row count,
 * column set, then values. Unlike Dataform, rows are compared as sorted sets: neither query has
 * an order, and a test should not pass or fail on the order DuckDB's threads return rows in.
 */
export async function runUnitTests(projectDir: string, options: CompileOptions & { database?: string } = {}): Promise<TestResult[]> {
  const graph = compileProject(projectDir, options);
  assertCompiled(graph);
  const dialect = new Dialect(graph);
  const { file, catalog } = projectDatabase(projectDir, options.database, graph.projectConfig.defaultDatabase);
  // Tests read only their inlined inputs, but may name other tables: give them the project's
  // database read-only when it exists, else an empty one under the same catalog name.
  const db = await Database.open(existsSync(file) ? file : ":memory:", catalog, { readOnly: existsSync(file) });
  try {
    const results: TestResult[] = [];
    for (const test of graph.tests.filter((t) => !t.disabled)) {
      results.push(
        await db.withConnection((c) =>
          runTest(c, test.name, test.fileName, dialect.translate(test.testQuery), dialect.translate(test.expectedOutputQuery)),
        ),
      );
    }
    return results;
  } finally {
    db.close();
  }
}

type Row = Record<string, string>;

async function runTest(
  connection: DuckDBConnection,
  name: string,
  fileName: string,
  actualQuery: string,
  expectedQuery: string,
): Promise<TestResult> {
  const fail = (...messages: string[]) => ({ name, fileName, successful: false, messages });
  let actual: Row[];
  let expected: Row[];
  try {
    actual = await readRows(connection, actualQuery);
    expected = await readRows(connection, expectedQuery);
  } catch (error) {
    return fail(`error: ${messageOf(error)}`);
  }
  if (actual.length !== expected.length) {
    return fail(`expected ${expected.length} rows, but saw ${actual.length} rows`, ...diffRows(expected, actual));
  }
  if (actual.length > 0) {
    const actualColumns = Object.keys(actual[0]).sort();
    const expectedColumns = Object.keys(expected[0]).sort();
    if (actualColumns.join("\u0000") !== expectedColumns.join("\u0000")) {
      return fail(`expected columns [${expectedColumns.join(", ")}], but saw [${actualColumns.join(", ")}]`);
    }
  }
  const messages: string[] = [];
  for (let i = 0; i < actual.length; i++) {
    for (const column of Object.keys(expected[i])) {
      if (actual[i][column] !== expected[i][column]) {
        messages.push(`row ${i + 1}, column "${column}": expected ${expected[i][column]}, but saw ${actual[i][column]}`);
      }
    }
  }
  return messages.length > 0 ? fail(...messages) : { name, fileName, successful: true, messages: [] };
}

/**
 * Rows with every value as comparable text (JSON for nested values, `null` for NULL), sorted.
 * Numbers compare by value whatever their type, so an expected `1.0` (DECIMAL) equals a
 * computed `1` (DOUBLE) and `1` (INTEGER) equals `1` (BIGINT).
 */
async function readRows(connection: DuckDBConnection, query: string): Promise<Row[]> {
  const reader = await connection.runAndReadAll(query);
  const numeric = reader.columnTypes().map((t) => NUMERIC_TYPE.test(t.toString()));
  const names = reader.columnNames().map((n) => n.toLowerCase());
  const rows = reader.getRowsJson().map((values) => {
    const out: Row = {};
    values.forEach((v, i) => {
      out[names[i]] = v === null ? "null" : numeric[i] ? String(Number(v)) : typeof v === "object" ? JSON.stringify(v) : String(v);
    });
    return out;
  });
  const key = (r: Row) =>
    JSON.stringify(
      Object.keys(r)
        .sort()
        .map((k) => r[k]),
    );
  return rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

const NUMERIC_TYPE = /^(DECIMAL|DOUBLE|FLOAT|REAL|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)\b/;

/** The rows only one side has, for a message that shows what differs. */
function diffRows(expected: Row[], actual: Row[]): string[] {
  const show = (r: Row) => JSON.stringify(r);
  const expectedSet = new Set(expected.map(show));
  const actualSet = new Set(actual.map(show));
  return [
    ...expected
      .filter((r) => !actualSet.has(show(r)))
      .slice(0, 10)
      .map((r) => `  missing: ${show(r)}`),
    ...actual
      .filter((r) => !expectedSet.has(show(r)))
      .slice(0, 10)
      .map((r) => `  unexpected: ${show(r)}`),
  ];
}

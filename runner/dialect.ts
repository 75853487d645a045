import type { CompiledGraph, Target } from "./graph.ts";
import { quoteQualified } from "./quote.ts";

/**
 * Translates the SQL that `@dataform/core` compiles for BigQuery into DuckDB's dialect.
 *
 * Core quotes every reference as one backtick-quoted dotted name (`` `db.schema.table` ``,
 * or `` `schema.table` `` without a default database). Only names of targets the graph knows
 * are rewritten, each to `"db"."schema"."table"`: a backtick that names no target is left
 * for DuckDB to reject with its own message, so user SQL is never rewritten by guesswork.
 */
export class Dialect {
  private readonly references = new Map<string, string>();

  constructor(graph: CompiledGraph) {
    const defaultDatabase = graph.projectConfig.defaultDatabase;
    const all: Target[] = [
      ...graph.targets,
      ...graph.tables.map((a) => a.target),
      ...graph.operations.map((a) => a.target),
      ...graph.assertions.map((a) => a.target),
      ...graph.declarations.map((a) => a.target),
    ];
    for (const target of all) {
      if (!target) continue;
      const database = target.database || defaultDatabase;
      const schema = target.schema || graph.projectConfig.defaultSchema;
      const quoted = quoteQualified(database, schema, target.name);
      this.references.set(database ? `${database}.${schema}.${target.name}` : `${schema}.${target.name}`, quoted);
    }
  }

  /**
   * Rewrites the backtick references to known targets in one compiled statement. String
   * literals, quoted identifiers and comments are the user's text and are left as written, so
   * `'${ctx.resolve("t")}'` stays the name as text; the alternation finds them first.
   */
  translate(sql: string): string {
    return sql.replace(
      /'[^']*'|"[^"]*"|--[^\n]*|\/\*[\s\S]*?\*\/|`([^`\r\n]+)`/g,
      (whole, inner: string | undefined) => (inner === undefined ? whole : (this.references.get(inner) ?? whole)),
    );
  }

  /**
   * Core writes the label of a `rowConditions` assertion as a BigQuery string literal, where a
   * quote inside the condition is escaped as `\'`. DuckDB reads backslash escapes only in
   * E'…' literals, so that one generated literal gets the E prefix.
   */
  translateBuiltinAssertion(sql: string): string {
    return this.translate(sql).replace(
      /^(\s*SELECT\s*\n\s*)('(?:[^'\\]|\\.)*')(\s+AS failing_row_condition,)/gm,
      (_whole, before: string, literal: string, after: string) =>
        literal.includes("\\") ? `${before}E${literal}${after}` : `${before}${literal}${after}`,
    );
  }
}

import type { CompiledGraph, Target } from "./graph.ts";
import { quoteQualified } from "./quote.ts";

/**
 * Translates the SQL that `@dataform/core` compiles for BigQuery into DuckDB's dialect.
 *
 * Core quotes every reference as one backtick-quoted dotted name (`` `db.schema.table` ``,
 * or `` `schema.table` `` without a default database). Only names of targets the graph knows
 * are rewritten: a backtick that names no target is left for DuckDB to reject with its own
 * message, so user SQL is never rewritten by guesswork.
 *
 * A target in the project's own database is written as two parts, `"schema"."table"`: DuckDB
 * stores a view's SQL as written and binds its two-part names inside the view's own catalog, so
 * the view resolves whatever name the file is opened under (a copy, the published gold file, a BI
 * tool that attaches it as its stem). A view stored with `"db"."schema"."table"` fails with
 * `Catalog "db" does not exist!` there. Targets in another database keep three parts.
 */
export class Dialect {
  private readonly references = new Map<string, { database: string; twoPart: string; threePart: string }>();
  private readonly home: string;

  constructor(graph: CompiledGraph) {
    const defaultDatabase = graph.projectConfig.defaultDatabase;
    this.home = defaultDatabase ?? "";
    const all: Target[] = [
      ...graph.targets,
      ...graph.tables.map((a) => a.target),
      ...graph.operations.map((a) => a.target),
      ...graph.assertions.map((a) => a.target),
      ...graph.declarations.map((a) => a.target),
    ];
    for (const target of all) {
      if (!target) continue;
      const database = target.database || defaultDatabase || "";
      const schema = target.schema || graph.projectConfig.defaultSchema;
      this.references.set(database ? `${database}.${schema}.${target.name}` : `${schema}.${target.name}`, {
        database,
        twoPart: quoteQualified(schema, target.name),
        threePart: quoteQualified(database, schema, target.name),
      });
    }
  }

  /**
   * Rewrites the backtick references to known targets in one compiled statement. String
   * literals, quoted identifiers and comments are the user's text and are left as written, so
   * `'${ctx.resolve("t")}'` stays the name as text; the alternation finds them first. `into` is
   * the action's own target: SQL that builds something in another database binds its two-part
   * names there, so every reference in it keeps three parts.
   */
  translate(sql: string, into?: Target): string {
    const elsewhere = !!into?.database && into.database !== this.home;
    return sql.replace(/'[^']*'|"[^"]*"|--[^\n]*|\/\*[\s\S]*?\*\/|`([^`\r\n]+)`/g, (whole, inner: string | undefined) => {
      const ref = inner === undefined ? undefined : this.references.get(inner);
      if (!ref) return whole;
      return !elsewhere && ref.database === this.home ? ref.twoPart : ref.threePart;
    });
  }

  /**
   * Core writes the label of a `rowConditions` assertion as a BigQuery string literal, where a
   * quote inside the condition is escaped as `\'`. DuckDB reads backslash escapes only in
   * E'…' literals, so that one generated literal gets the E prefix.
   */
  translateBuiltinAssertion(sql: string, into?: Target): string {
    return this.translate(sql, into).replace(
      /^(\s*SELECT\s*\n\s*)('(?:[^'\\]|\\.)*')(\s+AS failing_row_condition,)/gm,
      (_whole, before: string, literal: string, after: string) =>
        literal.includes("\\") ? `${before}E${literal}${after}` : `${before}${literal}${after}`,
    );
  }
}

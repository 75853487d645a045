/**
 * The one place where identifiers and literals are quoted for DuckDB.
 * Every name or value that reaches SQL from TypeScript goes through here or a bound parameter.
 */

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** `"db"."schema"."name"`, leaving out the parts that are empty. */
export function quoteQualified(...parts: (string | undefined | null)[]): string {
  return parts
    .filter((p): p is string => !!p)
    .map(quoteIdent)
    .join(".");
}

import { quoteLiteral } from "../../runner/quote.ts";
import { quotePgIdent, type PostgresTable } from "./source.ts";

/**
 * A table's rows leave PostgreSQL as `COPY … TO STDOUT` text, one value per column, and DuckDB
 * writes each row's payload: the JSON object `row_to_json` would have written, key for key and
 * value for value. Writing it on the server cost 11 s of PGlite's time for 1 M messages against
 * 4.7 s for the plain text, and the keys repeated on every row are half as many bytes again on
 * the wire. A column is copied as its text output when DuckDB can turn that text into
 * row_to_json's value exactly (strings, numbers, booleans, json, timestamps, given the session's
 * ISO DateStyle and UTC time zone); any other type (arrays, domains, enums, ranges, extension
 * types) is copied as the server's own `to_json(column)`, which is what row_to_json writes for it.
 */

/** How a column's copied text becomes its JSON value. */
type Kind = "string" | "number" | "float" | "boolean" | "json" | "timestamp" | "timestamptz";

/** format_type's names of the types copied as their text output, by how DuckDB turns it into JSON. */
const KINDS: [RegExp, Kind][] = [
  [
    /^(text|character varying(\(\d+\))?|character(\(\d+\))?|name|uuid|date|time(\(\d\))? with(out)? time zone|interval.*|bytea|inet|cidr|macaddr)$/,
    "string",
  ],
  [/^(smallint|integer|bigint|oid)$/, "number"],
  [/^(numeric(\(\d+(,\d+)?\))?|real|double precision)$/, "float"],
  [/^boolean$/, "boolean"],
  [/^jsonb?$/, "json"],
  [/^timestamp(\(\d\))? without time zone$/, "timestamp"],
  [/^timestamp(\(\d\))? with time zone$/, "timestamptz"],
];

/** What `load postgres` copies of a table and how it reads it back. */
export interface CopyPlan {
  /** The select list of the COPY, in the table's column order. */
  selectSql: string;
  /** read_csv's `columns` for a batch file: one VARCHAR per copied column. */
  columnsSql: string;
  /** The payload of a row of the batch file, as JSON text. */
  payloadSql: string;
  /** Which copied columns hold the cursor and the primary key as their text output, for the mark. */
  markColumns: number[];
}

export function copyPlan(table: PostgresTable): CopyPlan {
  const columns = [...table.types].map(([name, type]) => ({ name, kind: KINDS.find(([pattern]) => pattern.test(type))?.[1] }));
  const select = columns.map(({ name, kind }) => (kind ? `t.${quotePgIdent(name)}` : `to_json(t.${quotePgIdent(name)})`));
  const markColumns = [table.cursor, ...table.primaryKey].map((name) => {
    const i = columns.findIndex((c) => c.name === name);
    if (columns[i]!.kind) return i;
    // A cursor or key of a type copied as JSON is copied once more as its text, which the mark needs.
    select.push(`t.${quotePgIdent(name)}::text`);
    return select.length - 1;
  });
  return {
    selectSql: select.join(", "),
    columnsSql: `{${select.map((_, i) => `'c${i}': 'VARCHAR'`).join(", ")}}`,
    payloadSql: columns.every((c) => c.kind && OBJECT_KINDS.has(c.kind))
      ? `json_object(${columns.map(({ name, kind }, i) => `${quoteLiteral(name)}, ${objectValueSql(kind!, `c${i}`)}`).join(", ")})`
      : `('{' || ${columns.map(({ name, kind }, i) => `${quoteLiteral(JSON.stringify(name) + ":")} || ${kind ? jsonValueSql(kind, `c${i}`) : jsonTextSql(`c${i}`)}`).join(" || ',' || ")} || '}')::json`,
    markColumns,
  };
}

/**
 * Kinds whose values DuckDB's json_object writes exactly as row_to_json does. It writes a JSON
 * value given to it through a parser that keeps a number as a double, so a table with numeric,
 * floating, json or copied-as-JSON columns has its payload written as text instead, at twice the
 * cost (3.4 s of CPU for 1 M messages against 1.7 s).
 */
const OBJECT_KINDS = new Set<Kind>(["string", "number", "boolean", "timestamp", "timestamptz"]);

/** A column's value as json_object's argument. */
function objectValueSql(kind: Kind, value: string): string {
  switch (kind) {
    case "number":
      return `${value}::bigint`;
    case "boolean":
      return `case ${value} when 't' then true when 'f' then false end`;
    case "timestamp":
    case "timestamptz":
      return timestampSql(kind, value);
    default:
      return decodedSql(value);
  }
}

/**
 * A value of COPY's text format decoded: NULL is `\N` (read_csv's nullstr) and a value holds a
 * backslash only as the first of an escape of two characters (`\\`, `\n`, `\r`, `\t`, `\b`,
 * `\f`, `\v`). `\\` goes first, through chr(0), which no PostgreSQL text holds, so that `\\n`
 * stays a backslash and an n.
 */
function decodedSql(value: string): string {
  const escapes: [string, number][] = [
    ["n", 10],
    ["r", 13],
    ["t", 9],
    ["b", 8],
    ["f", 12],
    ["v", 11],
  ];
  let decoded = `replace(${value}, '\\\\', chr(0))`;
  for (const [letter, code] of escapes) decoded = `replace(${decoded}, '\\${letter}', chr(${code}))`;
  return `case when contains(${value}, '\\') then replace(${decoded}, chr(0), '\\') else ${value} end`;
}

/** Text that is already JSON (json, jsonb, the server's to_json), or null. */
function jsonTextSql(value: string): string {
  return `coalesce(${decodedSql(value)}, 'null')`;
}

/** row_to_json's value, as JSON text, for a column copied as its text output. Numbers are their text, but NaN and the infinities are strings. */
function jsonValueSql(kind: Kind, value: string): string {
  const quoted = (text: string) => `to_json(${text})::varchar`;
  switch (kind) {
    case "string":
      return `coalesce(${quoted(decodedSql(value))}, 'null')`;
    case "number":
      return `coalesce(${value}, 'null')`;
    case "float":
      return `case when ${value} is null then 'null' when ${value} in ('NaN', 'Infinity', '-Infinity') then '"' || ${value} || '"' else ${value} end`;
    case "boolean":
      return `case ${value} when 't' then 'true' when 'f' then 'false' else 'null' end`;
    case "json":
      return jsonTextSql(value);
    case "timestamp":
    case "timestamptz":
      return `coalesce(${quoted(timestampSql(kind, value))}, 'null')`;
  }
}

/**
 * A timestamp's text output (ISO DateStyle) as row_to_json writes it: ISO 8601 with a `T` and,
 * with a time zone, the offset as ±hh:mm where the text output writes `+00`; a BC year keeps
 * its ` BC`, as row_to_json's does. The common case, a UTC time in the years 1000 to 9999,
 * takes no regular expression.
 */
function timestampSql(kind: "timestamp" | "timestamptz", value: string): string {
  if (kind === "timestamp") {
    return `case when ${value} like '____-__-__ %' then left(${value}, 10) || 'T' || substr(${value}, 12)
      else regexp_replace(${value}, ' ', 'T') end`;
  }
  return `case when ${value} like '____-__-__ %+00' then left(${value}, 10) || 'T' || substr(${value}, 12) || ':00'
    else regexp_replace(regexp_replace(${value}, ' ', 'T'), '([+-]\\d\\d)( BC)?$', '\\1:00\\2') end`;
}

/** A batch file of COPY's text format as DuckDB reads it: columns c0, c1, … as VARCHAR, and `n`, the row's number in the file. */
export function batchRowsSql(plan: CopyPlan, path: string, longestRow: number): string {
  const maxLine = Math.max(DEFAULT_MAX_LINE, longestRow + 1024);
  return `(select ordinality as n, * from read_csv(${quoteLiteral(path)}, columns = ${plan.columnsSql},
    delim = '\t', quote = '', escape = '', nullstr = '\\N', header = false, auto_detect = false,
    new_line = '\\n', max_line_size = ${maxLine}, buffer_size = ${Math.max(16 * DEFAULT_MAX_LINE, 2 * maxLine)}) with ordinality)`;
}

/** DuckDB's own limit on a CSV line; buffers are sized as loaders/ndjson/readers.ts explains. */
const DEFAULT_MAX_LINE = 2 * 1024 * 1024;

/** A value of COPY's text format decoded in JS, for the mark: `\N` is not expected there (the cursor and keys are not NULL). */
export function decodeCopyText(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => COPY_ESCAPES[c] ?? c);
}

const COPY_ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", b: "\b", f: "\f", v: "\v" };

// Small, pure helpers that return SQL fragments. Each says how it treats NULL.

// A SQL list literal of strings: ('a', 'b'). No NULLs expected.
function stringList(values) {
  return `(${values.map((v) => `'${String(v).replace(/'/g, "''")}'`).join(", ")})`;
}

// A stable text key from several columns: md5 of the values joined by '|'. A NULL part is
// written as '∅', so (NULL, 'a') and ('', 'a') get different keys.
function surrogateKey(columns) {
  return `md5(concat_ws('|', ${columns.map((c) => `coalesce(cast(${c} as varchar), '∅')`).join(", ")}))`;
}

// The codes whose condition is true, as a VARCHAR[] (empty when none). A NULL condition counts
// as false, so each condition must test for NULL itself where NULL is an error.
function validationErrors(checks) {
  const items = Object.entries(checks).map(([code, condition]) => `case when ${condition} then '${code}' end`);
  return `list_filter([${items.join(", ")}]::varchar[], code -> code is not null)`;
}

// An ISO-8601 text timestamp (any offset) as a UTC TIMESTAMP; NULL when it does not parse.
function utcTimestamp(text) {
  return `timezone('UTC', try_cast(${text} as timestamptz))`;
}

// ISO-8601 text as a UTC TIMESTAMP, where text without an offset is already UTC (PostgreSQL's
// `timestamp` columns, as row_to_json writes them); NULL when it does not parse.
function utcTimestampNaiveUtc(text) {
  return `case when regexp_matches(${text}, '([+-]\\d\\d(:?\\d\\d)?|Z)$') then ${utcTimestamp(text)} else try_cast(${text} as timestamp) end`;
}

// A date-time as CRM exports write it ("2024-03-05 14:22", "2024-03-05", "03/05/2024 2:22 PM"),
// taken as UTC; NULL when empty or it matches no format.
function exportTimestamp(text) {
  return `try_strptime(trim(${text}), ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d', '%m/%d/%Y %I:%M %p', '%m/%d/%Y %H:%M', '%m/%d/%Y'])`;
}

// Dataform-style incremental filter on a landing timestamp: rows loaded after the newest row
// already in this table. NULL-safe on the first incremental run of an empty table. The inner
// column is qualified, so a table without it is an error rather than a correlated subquery.
function loadedSince(self, column = "_loaded_at") {
  return `${column} > (select coalesce(max(already.${column}), '-infinity'::timestamptz) from ${self} as already)`;
}

// The latest copy of each key in `relation`: the row with the greatest (_loaded_at, _file,
// _line), so a later load wins and, within a file, the later line. Adds copies_in_batch, the
// number of copies of the key in `relation`. Rows with a NULL key part group together.
function latestCopies(relation, keys) {
  const partition = keys.join(", ");
  return `select * exclude (copy_rank) from (
    select
      *,
      row_number() over (partition by ${partition} order by _loaded_at desc, _file desc, _line desc) as copy_rank,
      count(*) over (partition by ${partition}) as copies_in_batch,
    from ${relation}
  ) where copy_rank = 1`;
}

// Parses a JSON object column once into a struct of the named fields (each VARCHAR unless typed,
// e.g. { files: "JSON" }), so each row's document is read once, not once per `->>`. A missing
// key is NULL.
function jsonFields(column, fields) {
  const spec = Object.fromEntries(fields.map((f) => (typeof f === "string" ? [f, "VARCHAR"] : f)));
  return `from_json(${column}, '${JSON.stringify(spec).replace(/'/g, "''")}')`;
}

// With `enabled`, a person's name, handle or e-mail as a stable keyed hash: 'p_' and 16 hex of
// sha256(key ':' lowercased trimmed value), the key from the session variable the runner sets from
// $DUCKFORM_PSEUDONYM_KEY (a run without it fails naming the variable). The same value always
// gives the same pseudonym, so joins and counts are unchanged. NULL and the system user stay as they are.
function pseudonym(column, enabled) {
  if (!enabled) return column;
  const key = `coalesce(getvariable('duckform_pseudonym_key'), error('pseudonymize is on but $DUCKFORM_PSEUDONYM_KEY is not set'))`;
  return `case when ${column} is null or ${column} = '(system)' then ${column} else 'p_' || left(sha256(${key} || ':' || lower(trim(${column}))), 16) end`;
}

// A Telegram chat's key from its name, for HTML exports, which carry no chat id: `name:` and 16
// hex digits of the SHA-256 of the name with its whitespace collapsed. The exporter writes a
// group's name with a trailing space ("name" + " " + empty last name), JSON without it.
function chatNameKey(name) {
  return `'name:' || left(sha256(trim(regexp_replace(${name}, '\\s+', ' ', 'g'))), 16)`;
}

module.exports = {
  pseudonym,
  stringList,
  surrogateKey,
  validationErrors,
  utcTimestamp,
  utcTimestampNaiveUtc,
  exportTimestamp,
  loadedSince,
  latestCopies,
  jsonFields,
  chatNameKey,
};

import { describe, expect, it } from "vitest";
import { loadPostgres } from "../../loaders/postgres/load.ts";
import { startPostgres } from "../util/postgres.ts";
import { queryRows, tempDatabase } from "../util/tmp.ts";

/**
 * Every type a product table is likely to hold, with the values whose text forms differ most
 * from their JSON: escapes and control characters, NULL beside the empty string, NaN and
 * infinities, BC and five-digit years, numbers past a double's precision.
 */
const SCHEMA = `
  create type mood as enum ('calm', 'busy');
  create domain positive as integer check (value > 0);
  create table kinds (
    id bigint primary key, updated_at timestamptz not null,
    t text, vc varchar(10), ch char(5), u uuid, i2 smallint, i8 bigint, n numeric, f8 double precision, f4 real,
    b boolean, j json, jb jsonb, ts timestamp, tstz timestamptz, d date, tm time, tmz time with time zone,
    iv interval, by bytea, arr text[], ints integer[], e mood, dom positive, ip inet
  );
  create table plain (
    id uuid primary key, updated_at timestamp(3) not null, t text, n integer, b boolean, ts timestamp, tstz timestamptz
  );
`;

const KINDS_ROWS = `
  insert into kinds values
    (1, '2024-01-01 00:00:00+00', E'tab\\there\\nnew line \\\\ back "quoted" é 😀 \\x01 \\b \\f \\v', 'short', 'ab', md5('u')::uuid,
     -32768, 9223372036854775807, 123456789012345678901234567890.123456789, 'NaN', 3.14159,
     true, '{ "spaced" : [1, 2.50] }', '{"b": 1, "a": "x\\\\y"}', '2024-03-01 12:34:56.789', '2024-03-01 12:34:56.000001+05:30',
     '2024-03-01', '12:00:01', '12:00:01+02', '1 year 2 mons 3 days 04:05:06', '\\x00ff', array['a', 'b,c', null, E'd"e'],
     array[1, 2], 'busy', 7, '10.0.0.1/8'),
    (2, '2024-01-01 00:00:00+00', '', '', '', null, null, null, 'Infinity', '-Infinity', 'NaN',
     false, 'null', '[]', 'infinity', '-infinity', 'infinity', null, null, null, '\\x', '{}', null, null, null, null),
    (3, '2024-01-01 00:00:01+00', '\\N', null, null, null, 0, -1, -0.5, 1e100, -0,
     null, null, null, '0044-03-15 12:00:00 BC', '0044-03-15 12:00:00+00 BC', '0044-03-15 BC', null, null, null, null, null, null, null, null, null),
    (4, '2024-01-01 00:00:02.5+00', E'\\\\N', null, null, null, null, null, 1e-20, 1.5e-7, 1e30,
     null, null, null, '12345-06-07 08:09:10', '12345-06-07 08:09:10+00', '12345-06-07', null, null, null, null, null, null, null, null, null);
`;

const PLAIN_ROWS = `
  insert into plain values
    (md5('1')::uuid, '2024-01-01 00:00:00.123', E'a\\tb\\nc\\\\d\\re "q" \\x1f', 2147483647, true, '2024-03-01 00:00:00', '2024-03-01 00:00:00.5+00'),
    (md5('2')::uuid, '2024-01-01 00:00:00.123', '', null, false, 'infinity', '0044-03-15 12:00:00+00 BC'),
    (md5('3')::uuid, '2024-01-01 00:00:01', null, -2147483648, null, '0044-03-15 12:00:00 BC', '12345-06-07 08:09:10+00');
`;

/** DuckDB writes a control character as \u000B where PostgreSQL writes \u000b: the same JSON. */
function upperHexEscapes(json: string): string {
  return json.replace(/(?<!\\)\\u([0-9a-f]{4})/g, (_, hex: string) => `\\u${hex.toUpperCase()}`);
}

describe("loadPostgres payloads", () => {
  it.each([
    ["kinds", KINDS_ROWS, "id"],
    ["plain", PLAIN_ROWS, "id"],
  ])(
    "are, byte for byte, the JSON row_to_json writes for every row of %s",
    async (table, rows, key) => {
      const server = await startPostgres(SCHEMA);
      await server.pg.exec(rows);
      await server.pg.exec("set timezone = 'UTC'; set datestyle = 'ISO, MDY'");
      const expected = await server.pg.query<{ key: string; json: string }>(
        `select ${key}::text as key, row_to_json(r)::text as json from ${table} r order by ${key}`,
      );
      const db = await tempDatabase();
      const results = await loadPostgres(db, { url: server.url, tables: [table], cursor: "updated_at" });
      expect(results.map((r) => [r.status, r.rowsLanded])).toEqual([["landed", expected.rows.length]]);
      const landed = await queryRows(
        db,
        `select payload ->> '${key}' as key, payload::varchar as json from raw.postgres_${table} order by _line`,
      );
      const byKey = new Map(landed.map((r) => [String(r.key), String(r.json)]));
      for (const row of expected.rows) expect(byKey.get(row.key), row.key).toBe(upperHexEscapes(row.json));
    },
    60_000,
  );
});

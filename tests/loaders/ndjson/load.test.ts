import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { Database } from "../../../runner/database.ts";
import { loadNdjson, type NdjsonOptions } from "../../../loaders/ndjson/load.ts";
import { queryRows, tempDatabase, tempDir } from "../../util/tmp.ts";

const repo = resolve(import.meta.dirname, "../../..");
const fixtures = resolve(repo, "../shared/fixtures");
const edgeCases = join(fixtures, "duckdb-ndjson-edge-cases");
const gharchive = join(fixtures, "gharchive-2019-02-12-0-4events.ndjson");

async function landed(db: Database, table = "events") {
  return queryRows(db, `select _file, _line, payload::varchar as payload from raw.${table} order by _file, _line`);
}

async function quarantined(db: Database, table = "events") {
  return queryRows(db, `select _file, _line, raw_line, error from raw.quarantine where source_table = '${table}' order by _file, _line`);
}

function writeFile(dir: string, name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

// Every behaviour holds whichever way lines reach DuckDB: its CSV reader, or Node's splitter.
describe.each(["auto", "stream"] as const)("loadNdjson (reader: %s)", (reader) => {
  const load = (db: Database, paths: string[], options: Partial<NdjsonOptions> = {}) =>
    loadNdjson(db, paths, { table: "events", reader, ...options });

  it("lands every CRLF line of DuckDB's example_rn fixture, without the CR, unterminated last line included", async () => {
    const db = await tempDatabase();
    const [result] = await load(db, [join(edgeCases, "example_rn.ndjson")]);
    expect(result).toMatchObject({ status: "landed", rowsLanded: 5, rowsQuarantined: 0, lines: 5, blankLines: 0 });
    const rows = await landed(db);
    expect(rows.map((r) => r._line)).toEqual([1, 2, 3, 4, 5]);
    expect(rows[0].payload).toBe('{"id":1,"name":"O Brother, Where Art Thou?"}');
    expect(rows[4].payload).toBe('{"id":5,"name":"Raising Arizona"}');
  });

  it("quarantines the two-objects line, the trailing-garbage line and the unterminated string, landing their neighbours", async () => {
    const db = await tempDatabase();
    const results = await load(db, [edgeCases]);
    expect(results.map((r) => [r.fileName, r.rowsLanded, r.rowsQuarantined])).toEqual([
      ["example_rn.ndjson", 5, 0],
      ["multiple_objects_per_line.ndjson", 0, 1],
      ["trailing_content.ndjson", 2, 1],
      ["unterminated_quotes.ndjson", 4, 1],
    ]);
    expect((await quarantined(db)).map((q) => [q._file, q._line, q.error])).toEqual([
      ["multiple_objects_per_line.ndjson", 1, "more than one JSON value on the line"],
      ["trailing_content.ndjson", 2, "trailing content after the JSON value"],
      ["unterminated_quotes.ndjson", 3, "invalid JSON: unterminated string"],
    ]);
    const quarantine = await quarantined(db);
    expect(quarantine[1].raw_line).toBe('{"a":2}TRAILER');
    const rows = await landed(db);
    expect(rows.filter((r) => r._file === "trailing_content.ndjson").map((r) => r.payload)).toEqual(['{"a":1}', '{"a":3}']);
    expect(rows.filter((r) => r._file === "unterminated_quotes.ndjson").map((r) => r._line)).toEqual([1, 2, 4, 5]);
  });

  it("lands the long nested lines of real GH Archive events as they are, also from a .gz in a subdirectory", async () => {
    const db = await tempDatabase();
    const dir = tempDir();
    mkdirSync(join(dir, "2019-02-12"));
    writeFile(join(dir, "2019-02-12"), "0.json.gz", gzipSync(readFileSync(gharchive)));
    writeFile(dir, "notes.txt", "not NDJSON, not picked up from a directory");
    const [plain] = await load(db, [gharchive]);
    const [zipped] = await load(db, [dir]);
    expect(plain).toMatchObject({ fileName: "gharchive-2019-02-12-0-4events.ndjson", rowsLanded: 4 });
    expect(zipped).toMatchObject({ fileName: "2019-02-12/0.json.gz", rowsLanded: 4, lines: 4 });
    const types = await queryRows(db, "select _file, _line, payload->>'type' as type from raw.events order by _file, _line");
    expect(types.filter((t) => t._file === "2019-02-12/0.json.gz")).toEqual([
      { _file: "2019-02-12/0.json.gz", _line: 1, type: "IssueCommentEvent" },
      { _file: "2019-02-12/0.json.gz", _line: 2, type: "WatchEvent" },
      { _file: "2019-02-12/0.json.gz", _line: 3, type: "PushEvent" },
      { _file: "2019-02-12/0.json.gz", _line: 4, type: "PushEvent" },
    ]);
    const both = await queryRows(db, "select count(distinct payload::varchar)::int as n, count(*)::int as total from raw.events");
    expect(both).toEqual([{ n: 4, total: 8 }]);
  });

  it("names the fault of each malformed line, counts blank lines, and lands BOM, CRLF, Unicode and multi-megabyte lines", async () => {
    const big = JSON.stringify({ id: "big", blob: "x".repeat(3 * 1024 * 1024) });
    const lines = [
      '\uFEFF{"id":1,"note":"BOM before the first object"}', // 1
      "", // 2 blank
      '{"id":2,"cut":', // 3 truncated
      '{"id":3}TRAILER', // 4 trailing garbage
      '{"id":4} {"id":5}', // 5 two objects
      "[1,2,3]", // 6 array
      "42", // 7 scalar
      '"just a string"', // 8 scalar
      "null", // 9 scalar
      '{"id":6,"tab":"a\tb"}', // 10 unescaped control character
      "   \t ", // 11 blank: whitespace only
      big, // 12 a multi-megabyte line
      '  {"id":7,"note":"leading spaces are JSON whitespace"}', // 13
      '{"id":8,"note":"café — ünïcödé ✓ 🎧"}', // 14
      "\r", // 15 blank: an empty CRLF line
      '{"id":9,"note":"last line, no final newline"}', // 16
    ];
    const path = writeFile(tempDir(), "hostile.ndjson", lines.join("\n"));
    const db = await tempDatabase();
    const [result] = await load(db, [path]);
    expect(result).toMatchObject({ status: "landed", lines: 16, blankLines: 3, rowsLanded: 5, rowsQuarantined: 8 });
    const rows = await landed(db);
    expect(rows.map((row) => row._line)).toEqual([1, 12, 13, 14, 16]);
    expect(rows[0].payload).toBe('{"id":1,"note":"BOM before the first object"}');
    expect(String(rows[1].payload)).toBe(big);
    expect(rows[3].payload).toBe('{"id":8,"note":"café — ünïcödé ✓ 🎧"}');
    const quarantine = await quarantined(db);
    expect(quarantine.map((q) => [q._line, q.error])).toEqual([
      [3, "invalid JSON: truncated (unclosed object or array)"],
      [4, "trailing content after the JSON value"],
      [5, "more than one JSON value on the line"],
      [6, "not a JSON object: the line holds an array"],
      [7, "not a JSON object: the line holds a number"],
      [8, "not a JSON object: the line holds a string"],
      [9, "not a JSON object: the line holds null"],
      [10, "invalid JSON: unescaped control character"],
    ]);
    expect(quarantine.map((q) => q.raw_line)).toEqual(lines.slice(2, 10));
  });

  it("quarantines a line of invalid UTF-8 showing the bad bytes, and lands the lines around it", async () => {
    const content = Buffer.concat([
      Buffer.from('{"id":1}\n{"name":"'),
      Buffer.from([0xff, 0xfe, 0x41]),
      Buffer.from('"}\n{"id":3,"name":"Zoë"}\n'),
    ]);
    const db = await tempDatabase();
    const limit = "select current_setting('memory_limit') as limit";
    const before = await queryRows(db, limit);
    const [result] = await load(db, [writeFile(tempDir(), "latin.ndjson", content)]);
    expect(result).toMatchObject({ rowsLanded: 2, rowsQuarantined: 1, lines: 3 });
    // Loading lowers DuckDB's memory limit while it runs, and puts it back.
    expect(await queryRows(db, limit)).toEqual(before);
    expect((await landed(db)).map((r) => r.payload)).toEqual(['{"id":1}', '{"id":3,"name":"Zoë"}']);
    expect(await quarantined(db)).toEqual([
      { _file: "latin.ndjson", _line: 2, raw_line: '{"name":"\\xFF\\xFEA"}', error: "invalid UTF-8 at byte 10 of the line" },
    ]);
  });

  it("keeps a lone CR inside its line, so that line numbers stay the file's physical lines", async () => {
    const db = await tempDatabase();
    const path = writeFile(tempDir(), "cr.ndjson", '{"id":1}\n{"id":2}\r{"id":3}\n{"id":4,\r"ws":true}\n');
    const [result] = await load(db, [path]);
    expect(result).toMatchObject({ lines: 3, rowsLanded: 2, rowsQuarantined: 1 });
    expect((await landed(db)).map((r) => r._line)).toEqual([1, 3]);
    expect((await quarantined(db)).map((q) => [q._line, q.error])).toEqual([[2, "invalid JSON: unescaped control character"]]);
  });

  it("counts a CR as the file's last byte inside the last line, not as a line of its own", async () => {
    const db = await tempDatabase();
    const [result] = await load(db, [writeFile(tempDir(), "tail.ndjson", '{"id":1}\n{"id":2}\r')]);
    expect(result).toMatchObject({ lines: 2, blankLines: 0, rowsLanded: 2, rowsQuarantined: 0 });
    expect((await landed(db)).map((r) => r.payload)).toEqual(['{"id":1}', '{"id":2}']);
  });

  it("numbers lines right when CRLF endings start only deep into an LF file", async () => {
    const lf = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ i, pad: "p".repeat(40) })).join("\n") + "\n";
    const crlf = Array.from({ length: 5 }, (_, i) => JSON.stringify({ i: 2000 + i })).join("\r\n") + "\r\n";
    const db = await tempDatabase();
    const [result] = await load(db, [writeFile(tempDir(), "mixed.ndjson", lf + crlf)]);
    expect(result).toMatchObject({ lines: 2005, rowsLanded: 2005, rowsQuarantined: 0 });
    const rows = await queryRows(db, "select count(*)::int as n from raw.events where (payload->>'i')::int + 1 <> _line");
    expect(rows).toEqual([{ n: 0 }]);
  });

  it("records each file's accounting in the ledger: landed + quarantined + blank = lines", async () => {
    const db = await tempDatabase();
    await load(db, [edgeCases]);
    const rows = await queryRows(
      db,
      `select file_name, lines, rows_landed + rows_quarantined + blank_lines as accounted, status, length(sha256) as sha_len
       from raw.load_ledger order by file_name`,
    );
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      expect(row.accounted).toBe(row.lines);
      expect(row).toMatchObject({ status: "landed", sha_len: 64 });
    }
  });

  it("skips a file landed before with the same content, adding no rows", async () => {
    const db = await tempDatabase();
    await load(db, [gharchive]);
    const [again] = await load(db, [gharchive]);
    expect(again).toMatchObject({ status: "skipped", rowsLanded: 0, rowsQuarantined: 0 });
    expect(await queryRows(db, "select count(*)::int as n from raw.events")).toEqual([{ n: 4 }]);
    const statuses = await queryRows(db, "select status from raw.load_ledger order by loaded_at");
    expect(statuses.map((s) => s.status)).toEqual(["landed", "skipped"]);
  });

  it("refuses a changed file with an error naming it, and replaces its rows and quarantine with replace", async () => {
    const dir = tempDir();
    const db = await tempDatabase();
    const path = writeFile(dir, "day.ndjson", '{"v":1}\n{"v":2}\nbroken\n');
    const other = writeFile(dir, "other.ndjson", '{"o":1}\n');
    await load(db, [path, other]);
    writeFile(dir, "day.ndjson", '{"v":10}\n');
    const [refused] = await load(db, [path]);
    expect(refused.status).toBe("refused");
    expect(refused.error).toMatch(/day\.ndjson was already landed into raw\.events with different content.*--replace/);
    expect((await landed(db)).map((r) => r.payload)).toEqual(['{"v":1}', '{"v":2}', '{"o":1}']);

    const [replaced] = await load(db, [path], { replace: true });
    expect(replaced).toMatchObject({ status: "replaced", rowsLanded: 1, rowsQuarantined: 0 });
    expect((await landed(db)).map((r) => [r._file, r.payload])).toEqual([
      ["day.ndjson", '{"v":10}'],
      ["other.ndjson", '{"o":1}'],
    ]);
    expect(await quarantined(db)).toEqual([]);
  });
});

describe("duckform load ndjson (CLI)", () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", join(repo, "runner/cli.ts"), "load", "ndjson", ...args], {
      cwd: repo,
      encoding: "utf8",
    });

  it("prints a summary line, and exits 1 naming the file when a changed file is refused", { timeout: 30_000 }, () => {
    const dir = tempDir();
    const database = join(dir, "cli.duckdb");
    const path = writeFile(dir, "a.ndjson", '{"a":1}\n\n[1]\n');
    const first = cli([path, "--table", "events", "--database", database]);
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^load ndjson: files 1 landed, 0 skipped, 0 refused; 1 rows landed, 1 quarantined in [\d.]+ s\n$/);
    writeFile(dir, "a.ndjson", '{"a":2}\n');
    const second = cli([path, "--table", "events", "--database", database]);
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(/refused .*a\.ndjson: a\.ndjson was already landed into raw\.events with different content/);
    expect(second.stdout).toMatch(/files 0 landed, 0 skipped, 1 refused/);
  });

  it("warns when a .json file is a pretty-printed document rather than NDJSON", { timeout: 30_000 }, () => {
    const dir = tempDir();
    const path = writeFile(dir, "export.json", JSON.stringify([{ a: 1 }, { a: 2 }], null, 2));
    const run = cli([path, "--table", "events", "--database", join(dir, "cli.duckdb")]);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/warning: no line of .*export\.json holds a JSON object on its own; is it NDJSON\?/);
    expect(run.stdout).toMatch(/0 rows landed, 8 quarantined/);
  });
});

describe("a load killed mid-file", () => {
  it("leaves none of the file's rows and no ledger row, and the file lands whole when run again", { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const database = join(dir, "crash.duckdb");
    // ~80 MB: long enough to be killed while DuckDB writes its rows.
    const line = (i: number) => JSON.stringify({ i, text: "y".repeat(380) });
    const chunk = Array.from({ length: 1000 }, (_, i) => line(i)).join("\n") + "\n";
    const path = writeFile(dir, "big.ndjson", chunk.repeat(200));
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(repo, "runner/cli.ts"), "load", "ndjson", path, "--table", "big", "--database", database],
      { cwd: repo, stdio: "ignore" },
    );
    const exit = new Promise<NodeJS.Signals | null>((done) => child.on("exit", (_code, signal) => done(signal)));
    const size = () => [database, `${database}.wal`].reduce((sum, f) => sum + (existsSync(f) ? statSync(f).size : 0), 0);
    // Wait for the rows to start reaching disk (optimistic writes inside the open transaction), then kill.
    let grown = false;
    let base = -1;
    for (let waited = 0; waited < 30_000 && child.exitCode === null; waited += 10) {
      const now = size();
      if (base < 0 && now > 0) base = now;
      if (base > 0 && now > base + 8 * 1024 * 1024) {
        grown = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill("SIGKILL");
    expect(await exit).toBe("SIGKILL");
    expect(grown).toBe(true);

    const db = await Database.open(database, "crash");
    try {
      const tables = await queryRows(db, "select table_name from information_schema.tables where table_schema = 'raw' order by 1");
      if (tables.some((t) => t.table_name === "big")) {
        expect(await queryRows(db, "select count(*)::int as n from raw.big")).toEqual([{ n: 0 }]);
        expect(await queryRows(db, "select count(*)::int as n from raw.load_ledger")).toEqual([{ n: 0 }]);
      }
      const [result] = await loadNdjson(db, [path], { table: "big" });
      expect(result).toMatchObject({ status: "landed", rowsLanded: 200_000 });
      expect(await queryRows(db, "select count(*)::int as n, max(_line)::int as last from raw.big")).toEqual([
        { n: 200_000, last: 200_000 },
      ]);
    } finally {
      db.close();
    }
  });
});

import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { wideEvents, writeBigFilesDirectory } from "../../../bench/generateEvents.ts";
import { loadNdjson } from "../../../loaders/ndjson/load.ts";
import { Database } from "../../../runner/database.ts";
import { timedDuckform } from "../../util/cli.ts";
import { queryRows, tempDatabase, tempDir } from "../../util/tmp.ts";

const repo = resolve(import.meta.dirname, "../../..");
const gharchive = resolve(repo, "../shared/fixtures/gharchive-2019-02-12-0-4events.ndjson");

function cli(args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", join(repo, "runner/cli.ts"), "load", "ndjson", ...args], {
    cwd: repo,
    encoding: "utf8",
  });
}

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at |node:internal|triggerUncaughtException/);

describe("big files", () => {
  it("lands 4,000 lines of 10 KB (a 41 MB file) and a single 20 MB line, with the default memory", { timeout: 120_000 }, () => {
    const dir = tempDir();
    writeFileSync(join(dir, "wide.ndjson"), wideEvents(4000, 10_000));
    writeFileSync(join(dir, "one-line.ndjson"), JSON.stringify({ id: "big", blob: "y".repeat(20 * 1024 * 1024) }) + "\n");
    const database = join(dir, "big.duckdb");
    const run = cli([dir, "--table", "events", "--database", database]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^load ndjson: files 2 landed, 0 skipped, 0 refused; 4,001 rows landed, 0 quarantined/);
  });

  it("raises a --memory-limit for the file whose longest line needs it, and puts the limit back after", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "a-small.ndjson"), '{"a":1}\n');
    writeFileSync(join(dir, "b-one-line.ndjson"), JSON.stringify({ blob: "y".repeat(8 * 1024 * 1024) }) + "\n");
    const db = await tempDatabase();
    const results = await loadNdjson(db, [dir], { table: "events", memoryLimit: "64MB" });
    expect(results.map((r) => [r.fileName, r.status, r.rowsLanded])).toEqual([
      ["a-small.ndjson", "landed", 1],
      ["b-one-line.ndjson", "landed", 1],
    ]);
    expect(await queryRows(db, "select current_setting('memory_limit') as limit")).toEqual([{ limit: "61.0 MiB" }]);
  });

  it.each(["auto", "stream"] as const)(
    "quarantines a line over the line limit with its size and first bytes, landing its neighbours (reader: %s)",
    async (reader) => {
      const path = join(tempDir(), "long.ndjson");
      const long = JSON.stringify({ blob: "z".repeat(300_000) });
      writeFileSync(path, `{"a":1}\n${long}\n{"a":3}\n`);
      const db = await tempDatabase();
      const [result] = await loadNdjson(db, [path], { table: "events", reader, maxLineBytes: 100_000 });
      expect(result).toMatchObject({ status: "landed", rowsLanded: 2, rowsQuarantined: 1, lines: 3 });
      const [quarantined] = await queryRows(db, "select _line, length(raw_line) as kept, error from raw.quarantine");
      expect(quarantined).toEqual({
        _line: 2,
        kept: 64 * 1024,
        error: "line of 300,011 bytes (293.0 KiB) is over the 97.7 KiB line limit; its first 65,536 bytes are kept",
      });
      expect(await queryRows(db, "select _line from raw.events order by _line")).toEqual([{ _line: 1 }, { _line: 3 }]);
    },
  );
});

describe("a directory of big files", () => {
  it(
    "lands ten 40 MB files of 10 KB lines, GH Archive events and a 24 MB line, names the truncated gzip, and peaks under 600 MB",
    { timeout: 180_000 },
    async () => {
      const dir = tempDir();
      writeBigFilesDirectory(dir, gharchive);
      const database = join(tempDir(), "directory.duckdb");

      const run = timedDuckform(["load", "ndjson", dir, "--table", "events", "--database", database]);
      expect(run.stderr).toBe(
        `duckform: failed ${join(dir, "wide-5-truncated.ndjson.gz")}: not a readable gzip file (unexpected end of file); a rerun retries it\n`,
      );
      expect(run.status).toBe(1);
      expect(run.stdout).toMatch(/^load ndjson: files 12 landed, 0 skipped, 0 refused, 1 failed; 40,005 rows landed, 0 quarantined/);
      expect(run.peakMb).toBeLessThan(600);

      const db = await Database.open(database, "directory");
      try {
        const landed = await queryRows(db, "select _file, count(*)::int as n from raw.events group by _file order by _file");
        expect(landed).toEqual([
          { _file: "gharchive.ndjson", n: 4 },
          { _file: "single-24mb.ndjson", n: 1 },
          ...Array.from({ length: 10 }, (_, i) => ({ _file: `wide-${i}.ndjson`, n: 4000 })),
        ]);
      } finally {
        db.close();
      }
    },
  );
});

describe("a file that cannot land", () => {
  it(
    "is recorded as failed with the reason naming it, the other files land, the exit code is 1, and a rerun retries only it",
    { timeout: 60_000 },
    async () => {
      const dir = tempDir();
      const good = readFileSync(gharchive);
      writeFileSync(join(dir, "a.ndjson"), '{"a":1}\n{"a":2}\n');
      const zipped = gzipSync(good);
      writeFileSync(join(dir, "b-truncated.ndjson.gz"), zipped.subarray(0, zipped.length / 2));
      writeFileSync(join(dir, "c-not-gzip.ndjson.gz"), "this was never gzipped\n");
      mkdirSync(join(dir, "d"));
      writeFileSync(join(dir, "d", "gharchive.ndjson"), good);
      const database = join(dir, "broken.duckdb");

      const first = cli([dir, "--table", "events", "--database", database]);
      expect(first.status).toBe(1);
      noStack(first.stderr);
      expect(first.stderr).toContain(
        `duckform: failed ${join(dir, "b-truncated.ndjson.gz")}: not a readable gzip file (unexpected end of file)`,
      );
      expect(first.stderr).toContain(
        `duckform: failed ${join(dir, "c-not-gzip.ndjson.gz")}: not a readable gzip file (incorrect header check)`,
      );
      expect(first.stdout).toMatch(/^load ndjson: files 2 landed, 0 skipped, 0 refused, 2 failed; 6 rows landed, 0 quarantined/);

      const db = await Database.open(database, "broken");
      try {
        expect(await queryRows(db, "select file_name, status, rows_landed, error from raw.load_ledger order by file_name")).toEqual([
          { file_name: "a.ndjson", status: "landed", rows_landed: 2, error: null },
          {
            file_name: "b-truncated.ndjson.gz",
            status: "failed",
            rows_landed: 0,
            error: `${join(dir, "b-truncated.ndjson.gz")}: not a readable gzip file (unexpected end of file)`,
          },
          {
            file_name: "c-not-gzip.ndjson.gz",
            status: "failed",
            rows_landed: 0,
            error: `${join(dir, "c-not-gzip.ndjson.gz")}: not a readable gzip file (incorrect header check)`,
          },
          { file_name: "d/gharchive.ndjson", status: "landed", rows_landed: 4, error: null },
        ]);
        expect(await queryRows(db, "select count(*)::int as n from raw.events")).toEqual([{ n: 6 }]);
      } finally {
        db.close();
      }

      writeFileSync(join(dir, "b-truncated.ndjson.gz"), gzipSync(good));
      const second = cli([dir, "--table", "events", "--database", database]);
      expect(second.stdout).toMatch(/^load ndjson: files 1 landed, 2 skipped, 0 refused, 1 failed; 4 rows landed/);
      expect(second.status).toBe(1);
    },
  );

  it("fails alone when DuckDB runs out of memory, with DuckDB's first line and what to change", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "a-wide.ndjson"), wideEvents(2000, 10_000));
    writeFileSync(join(dir, "b-small.ndjson"), '{"a":1}\n');
    const db = await tempDatabase();
    const results = await loadNdjson(db, [dir], { table: "events", memoryLimit: "64MB" });
    expect(results.map((r) => [r.fileName, r.status])).toEqual([
      ["a-wide.ndjson", "failed"],
      ["b-small.ndjson", "landed"],
    ]);
    expect(results[0]!.error).toMatch(/^\/.*a-wide\.ndjson: Out of Memory Error: .*; give the load more memory with --memory-limit$/);
    expect(results[0]!.error).not.toContain("\n");
    expect(await queryRows(db, "select count(*)::int as n from raw.events")).toEqual([{ n: 1 }]);
  });

  it("refuses an empty --database as a usage error instead of writing to the project's default file", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "a.ndjson"), '{"a":1}\n');
    writeFileSync(join(dir, "dataform.json"), JSON.stringify({ defaultDatabase: "demo" }));
    const run = cli([join(dir, "a.ndjson"), "--table", "events", "--database", "", "--project", dir]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe("duckform: --database is empty: give a file name (is the variable you passed unset?)\n");
    expect(spawnSync("ls", [dir], { encoding: "utf8" }).stdout).not.toContain("demo.duckdb");
  });
});

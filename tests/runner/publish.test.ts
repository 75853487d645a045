import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { duckform } from "../util/cli.ts";
import { copyFixture } from "../util/project.ts";
import { selectEveryView } from "../util/readOnly.ts";
import { landedWarehouse } from "../util/warehouse.ts";
import { DuckDBInstance } from "@duckdb/node-api";
import { quoteQualified } from "../../runner/quote.ts";

const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, "gold.manifest.json"), "utf8"));

async function tablesIn(file: string): Promise<Record<string, number>> {
  const instance = await DuckDBInstance.create(file, { access_mode: "READ_ONLY" });
  try {
    const c = await instance.connect();
    const out: Record<string, number> = {};
    for (const [schema, name] of (
      await c.runAndReadAll("select schema_name, table_name from duckdb_tables() order by all")
    ).getRows() as string[][]) {
      out[`${schema}.${name}`] = Number((await c.runAndReadAll(`select count(*) from ${quoteQualified(schema, name)}`)).getRows()[0][0]);
    }
    c.closeSync();
    return out;
  } finally {
    instance.closeSync();
  }
}

describe("duckform publish", () => {
  it("copies gold (views materialized) and the quality tables into gold.duckdb beside the database, with a manifest", async () => {
    const dir = copyFixture("views");
    const run = await duckform(["run", dir, "--publish"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`→ ${join(dir, "gold.duckdb")}`);
    const manifest = manifestOf(dir);
    const runId = JSON.parse(readFileSync(join(dir, "run_results.json"), "utf8")).runId;
    expect(manifest.runId).toBe(runId);
    expect(manifest.tables).toContainEqual({ schema: "main", name: "order_amounts", rows: 3 });
    expect(await tablesIn(join(dir, "gold.duckdb"))).toEqual({
      "duckform_meta.assertion_failures": 0,
      "duckform_meta.publish_manifest": 4,
      "duckform_meta.run_history": 7,
      "main.big_orders": 2,
      "main.order_amounts": 3,
    });
    // Nothing in it depends on the project's catalog name: no views are left to bind.
    expect(await selectEveryView(join(dir, "gold.duckdb"))).toEqual({});
    // A client opens the file as catalog "gold": both gold.<table> and <table> resolve.
    const instance = await DuckDBInstance.create(join(dir, "gold.duckdb"), { access_mode: "READ_ONLY" });
    try {
      const c = await instance.connect();
      const count = async (sql: string) => Number((await c.runAndReadAll(sql)).getRows()[0][0]);
      expect(await count("select count(*) from gold.order_amounts")).toBe(3);
      expect(await count("select count(*) from order_amounts")).toBe(3);
      c.closeSync();
    } finally {
      instance.closeSync();
    }
  });

  it("publishes nothing after a failed gold assertion, says so, and keeps the previous snapshot", async () => {
    const dir = copyFixture("views");
    expect((await duckform(["run", dir, "--publish"])).code).toBe(0);
    const before = manifestOf(dir);
    const bad = await duckform(["run", dir, "--vars", "bad=1", "--publish"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("not published: 2 gold assertion(s) did not pass");
    expect(bad.stderr).toContain("gold_order_amounts_assertions_rowConditions failed in run");
    expect(bad.stderr).toContain("keeps its previous snapshot");
    expect(manifestOf(dir)).toEqual(before);
    expect(existsSync(join(dir, "gold.duckdb.next"))).toBe(false);
    // `duckform publish` on its own refuses too, as long as the latest outcome is a failure.
    const again = await duckform(["publish", dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("not published");
  });

  it("--to writes the snapshot and its manifest elsewhere; a missing database is refused", async () => {
    const dir = copyFixture("views");
    expect((await duckform(["publish", dir])).stderr).toMatch(/not published: database .* does not exist/);
    expect((await duckform(["run", dir])).code).toBe(0);
    const to = join(dir, "bi", "serving.duckdb");
    expect((await duckform(["publish", dir, "--to", to])).code).toBe(0);
    expect((await tablesIn(to))["main.order_amounts"]).toBe(3);
    expect(JSON.parse(readFileSync(join(dir, "bi", "serving.manifest.json"), "utf8")).file).toBe(to);
  });
});

describe("a reader of the published file", () => {
  it("keeps reading its snapshot without an error or a partial table while run --full-refresh --publish rebuilds everything", async () => {
    const { dir, file } = await landedWarehouse();
    const first = await duckform(["run", dir, "--database", file, "--publish"]);
    expect(first.code, first.stderr).toBe(0);
    const firstRun = manifestOf(dir).runId;

    const reader = spawn(
      process.execPath,
      ["--import", "tsx", resolve(import.meta.dirname, "../util/publishedReader.ts"), join(dir, "gold.duckdb")],
      {
        stdio: ["pipe", "pipe", "inherit"],
      },
    );
    const lines = createInterface({ input: reader.stdout! })[Symbol.asyncIterator]();
    const ready = JSON.parse((await lines.next()).value);
    expect(ready).toMatchObject({ ready: true, runId: firstRun });

    const rebuild = await duckform(["run", dir, "--database", file, "--full-refresh", "--publish"]);
    expect(rebuild.code, rebuild.stderr).toBe(0);
    const secondRun = manifestOf(dir).runId;
    expect(secondRun).not.toBe(firstRun);
    // Let the reader go on a little over the swapped file before it stops.
    await new Promise((r) => setTimeout(r, 300));
    reader.stdin!.end("stop\n");
    const done = JSON.parse((await lines.next()).value);
    expect(done.errors).toEqual([]);
    expect(done.mismatches).toEqual([]);
    expect(done.iterations).toBeGreaterThan(3);
    expect(done.runId).toBe(firstRun);
    expect(done.newRunId).toBe(secondRun);
  }, 120_000);
});

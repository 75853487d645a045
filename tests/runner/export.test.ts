import { readdirSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { describe, expect, it } from "vitest";
import { duckform } from "../util/cli.ts";
import { copyFixture } from "../util/project.ts";
import { tempDir } from "../util/tmp.ts";
import { landedWarehouse } from "../util/warehouse.ts";

/** Each row as text, sorted: the same multiset of rows gives the same list. */
async function rowsOf(sql: string, attach?: string): Promise<string[]> {
  const instance = await DuckDBInstance.create(":memory:");
  try {
    const c = await instance.connect();
    if (attach) await c.run(`attach '${attach}' as w (read_only); use w`);
    const reader = await c.runAndReadAll(`select t::varchar as r from (${sql}) as t order by r`);
    return reader.getRows().map((r) => String(r[0]));
  } finally {
    instance.closeSync();
  }
}

describe("duckform export --format parquet", () => {
  it("writes gold as Parquet, facts with a date column by month, and reads back row for row", async () => {
    const { dir, file } = await landedWarehouse();
    expect((await duckform(["run", dir, "--database", file])).code).toBe(0);
    const out = join(tempDir(), "parquet");
    const exported = await duckform(["export", dir, "--database", file, "--format", "parquet", "--out", out]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/fct_user_interactions: \d+ rows → .*fct_user_interactions \(by month of \w+_date\)/);
    const months = readdirSync(join(out, "fct_user_interactions")).sort();
    expect(months[0]).toBe("month=2024-01");
    expect(months.length).toBeGreaterThanOrEqual(2);
    expect(readdirSync(out)).toContain("dim_users.parquet");

    // Every gold table, partitioned or not, comes back with the same rows.
    const entries = readdirSync(out);
    expect(entries.length).toBeGreaterThanOrEqual(15);
    for (const entry of entries) {
      const table = entry.replace(/\.parquet$/, "");
      const read = entry.endsWith(".parquet")
        ? `select * from read_parquet('${out}/${entry}')`
        : `select * exclude (month) from read_parquet('${out}/${entry}/**/*.parquet', hive_partitioning = true)`;
      expect(await rowsOf(read), table).toEqual(await rowsOf(`select * from gold.${table}`, file));
    }
  });

  it("exports only --tables (views too), and names the gold tables when one does not exist", async () => {
    const dir = copyFixture("views");
    expect((await duckform(["run", dir])).code).toBe(0);
    const out = join(tempDir(), "parquet");
    expect((await duckform(["export", dir, "--out", out, "--tables", "big_orders"])).code).toBe(0);
    expect(readdirSync(out)).toEqual(["big_orders.parquet"]);
    expect(await rowsOf(`select * from read_parquet('${out}/big_orders.parquet')`)).toEqual([
      "{'order_id': 2, 'amount': 25}",
      "{'order_id': 3, 'amount': 40}",
    ]);
    const bad = await duckform(["export", dir, "--out", out, "--tables", "dim_nothing"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("no such gold table: dim_nothing (there are: big_orders, order_amounts)");
  });
});

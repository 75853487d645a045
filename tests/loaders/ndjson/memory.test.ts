import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { wideEvents } from "../../../bench/generateEvents.ts";
import { loadNdjson } from "../../../loaders/ndjson/load.ts";
import { setLoadMemory, withMemoryFallback, type LoadMemory } from "../../../loaders/ndjson/memory.ts";
import { queryRows, tempDatabase, tempDir } from "../../util/tmp.ts";

/** A query that needs about `mb` MB that DuckDB cannot spill: one string that long. */
const needs = (mb: number) => `select length(string_agg(repeat('x', 1000), '')) as n from range(${mb * 1000})`;
const limitSql = "select current_setting('memory_limit') as limit";

describe("a load's memory", () => {
  it("lands under the working limit, then gives DuckDB's default share back to the queries that follow", async () => {
    const db = await tempDatabase();
    const before = await queryRows(db, limitSql);
    const dir = tempDir();
    writeFileSync(join(dir, "wide.ndjson"), wideEvents(1000, 10_000));
    const results = await loadNdjson(db, [dir], { table: "events" });
    expect(results.map((r) => [r.status, r.rowsLanded])).toEqual([["landed", 1000]]);
    expect(await queryRows(db, limitSql)).toEqual(before);
    // More than the working limit: the buffer pool is back at the share, not only the setting's text.
    expect(await queryRows(db, needs(300))).toEqual([{ n: 300_000_000 }]);
    // Nothing is left for DuckDB to write at close: the load ended with its checkpoint.
    expect(await queryRows(db, "select wal_size from pragma_database_size() where database_name = current_database()")).toEqual([
      { wal_size: "0 bytes" },
    ]);
  });

  it("runs a statement that ran out of memory under the working limit once more under DuckDB's share", async () => {
    const db = await tempDatabase();
    await db.withConnection(async (connection) => {
      const share = String((await connection.runAndReadAll(limitSql)).getRows()[0]![0]);
      const memory: LoadMemory = { limit: "64MB", given: false, share, checkpointThreshold: "16MB" };
      await connection.run("set memory_limit = '64MB'");
      const limits: string[] = [];
      const rows = await withMemoryFallback(connection, memory, async (limit) => {
        limits.push(limit);
        return (await connection.runAndReadAll(needs(100))).getRows();
      });
      expect(rows).toEqual([[100_000_000n]]);
      expect(limits).toEqual(["64MB", share]);
      expect((await connection.runAndReadAll(limitSql)).getRows()).toEqual([["61.0 MiB"]]);

      // The user's --memory-limit is the user's: no second attempt above it.
      const given: LoadMemory = { ...memory, given: true };
      await expect(withMemoryFallback(connection, given, () => connection.run(needs(100)))).rejects.toThrow(/^Out of Memory Error/);
    });
  });

  it("names the flag when DuckDB refuses a --memory-limit", async () => {
    const db = await tempDatabase();
    await db.withConnection(async (connection) => {
      await expect(setLoadMemory(connection, "lots")).rejects.toThrow(/^--memory-limit lots: /);
    });
  });
});

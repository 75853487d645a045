import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { duckform } from "../util/cli.ts";
import { pipelineProject } from "../util/pipeline.ts";
import { readOnlyRows } from "../util/tmp.ts";

const rows = readOnlyRows;

describe("retention.days", () => {
  it("deletes a source's raw rows older than its retention, and every row derived from them, on each run; records it in the audit table; the warehouse stays consistent", async () => {
    const { dir, config, database } = await pipelineProject();
    // The tiny sample's events are of 2024: keep those since 1 July 2024.
    const days = Math.floor((Date.now() - Date.parse("2024-07-01T00:00:00Z")) / 86_400_000);
    const cutoff = new Date(Date.now() - days * 86_400_000);
    // A warehouse built without retention, then retention set: what is already derived must go too.
    expect((await duckform(["pipeline", dir, "--config", config])).code).toBe(0);
    writeFileSync(
      config,
      readFileSync(config, "utf8").replace("    table: events\n", `    table: events\n    retention: { days: ${days} }\n`),
    );

    const first = await duckform(["pipeline", dir, "--config", config]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^run\s+ok/m);
    const deleted = Number(
      /^retention\s+ok\s+events ([\d,]+) raw rows older than \d+ days \(([\d,]+) with what derived from them\)/m
        .exec(first.stdout)?.[1]
        .replace(/,/g, ""),
    );
    expect(deleted).toBeGreaterThan(100);

    const at = `'${cutoff.toISOString()}'::timestamptz`;
    const [left] = await rows(
      database,
      `select (select count(*) from raw.events where try_cast(payload ->> 'occurred_at' as timestamptz) < ${at}) as raw_old,
              (select count(*) from bronze.stg_events__product_events where occurred_at < ${at}) as bronze_old,
              (select count(*) from silver.int_events__deduplicated where occurred_at < ${at}) as silver_old,
              (select count(*) from gold.fct_user_interactions where occurred_at < ${at}) as gold_old,
              (select count(*) from gold.fct_user_interactions) as gold_all,
              (select count(*) from raw.events) as raw_all`,
    );
    expect(left).toMatchObject({ raw_old: 0, bronze_old: 0, silver_old: 0, gold_old: 0 });
    expect(left.gold_all as number).toBeGreaterThan(0);
    const [published] = await rows(
      database.replace("duckform.duckdb", "gold.duckdb"),
      `select count(*) as n, min(occurred_at) >= ${at} as recent from main.fct_user_interactions`,
    );
    expect(published).toEqual({ n: left.gold_all, recent: true });
    // The ledger still agrees with raw (ledger_disagrees_with_raw_rows passed: exit 0 above).
    const [ledger] = await rows(
      database,
      "select sum(rows_landed)::bigint as n from raw.load_ledger where source_table = 'events' and status = 'landed'",
    );
    expect(ledger.n).toBe(left.raw_all);

    const audit = await rows(
      database,
      "select action, source, rows_deleted, tables->>'raw.events' as raw from duckform_meta.privacy_audit",
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: "retention", source: "events" });
    expect(JSON.parse(String(audit[0].raw))).toEqual({ deleted, redacted: 0 });
    expect(audit[0].rows_deleted as number).toBeGreaterThan(deleted);

    // The next run finds nothing older and changes nothing.
    const second = await duckform(["pipeline", dir, "--config", config]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^retention\s+skipped\s+events 0 raw rows older than/m);
    expect(await rows(database, "select count(*) as n from duckform_meta.privacy_audit")).toEqual([{ n: 1 }]);
  }, 300_000);
});

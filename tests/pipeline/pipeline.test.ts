import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { duckform } from "../util/cli.ts";
import { pipelineProject } from "../util/pipeline.ts";
import { readOnlyRows } from "../util/tmp.ts";
import { mockWebhook } from "../util/webhook.ts";

const rows = readOnlyRows;

describe("duckform pipeline", () => {
  it("takes the tiny sample to a published warehouse and a report, ends with the headline numbers; a rerun lands nothing; a failed assertion exits 1, publishes nothing and posts one alert", async () => {
    const webhook = await mockWebhook();
    const { dir, config, database } = await pipelineProject(`alerts:\n  webhook: ${webhook.url}\n`);
    const first = await duckform(["pipeline", dir, "--config", config]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const warehouse = join(dir, "warehouse");
    expect(first.stdout).toMatch(/^load events\s+ok\s+78 of 78 files new, 409 rows landed, 2 quarantined/m);
    expect(first.stdout).toMatch(/^publish\s+ok\s+/m);
    expect(first.stdout).toContain(`Report:    ${join(warehouse, "report.html")}`);
    expect(first.stdout).toContain(`Published: ${join(warehouse, "gold.duckdb")}`);
    expect(first.stdout).toMatch(/^415 messages, 310 users, 400 events; assertions \d+ passed, 0 failed$/m);
    expect(first.stdout).toMatch(/pipeline succeeded \(exit 0: ok\)/);
    expect(existsSync(join(warehouse, "gold.duckdb"))).toBe(true);
    expect(existsSync(join(warehouse, "report.html"))).toBe(true);

    const stages = await rows(database, "select stage, status, rows_landed from duckform_meta.pipeline_runs order by started_at");
    expect(stages.map((s) => s.stage)).toEqual([
      "seed",
      "load events",
      "load telegram",
      "load slack",
      "run",
      "enrich",
      "analyze",
      "run enrichment",
      "test",
      "publish",
      "report",
      "summary",
    ]);
    expect(stages.every((s) => s.status === "ok")).toBe(true);
    expect(stages[1].rows_landed).toBe(409);

    // The second run, as JSON lines: every line on stdout is one.
    const second = await duckform(["pipeline", dir, "--config", config, "--log-format", "json"]);
    expect(second.code).toBe(0);
    const lines = second.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { stage?: string; status?: string; counts?: Record<string, number>; headline?: unknown });
    const byStage = new Map(lines.filter((l) => l.stage).map((l) => [l.stage, l]));
    for (const s of ["load events", "load telegram", "load slack"]) {
      expect(byStage.get(s)).toMatchObject({ status: "skipped", counts: { rows_landed: 0 } });
    }
    expect(byStage.get("run")?.status).toBe("skipped");
    expect(lines.find((l) => l.headline)?.headline).toMatchObject({ messages: 415, users: 310, events: 400, assertionsFailed: 0 });
    // The log beside the database has both runs, as JSON.
    const log = readFileSync(join(warehouse, "duckform.pipeline.log"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { runId: string });
    expect(new Set(log.map((l) => l.runId)).size).toBe(2);

    // A failing assertion: exit 1, the failure shown, gold left as it was.
    const published = statSync(join(warehouse, "gold.duckdb")).mtimeMs;
    writeFileSync(
      join(dir, "definitions", "assertions", "planted_failure.sqlx"),
      'config { type: "assertion" }\nselect 1 as always_fails\n',
    );
    const third = await duckform(["pipeline", dir, "--config", config]);
    expect(third.code).toBe(1);
    expect(third.stderr).toMatch(/assertion failed: duckform\.quality\.planted_failure \(definitions\/assertions\/planted_failure\.sqlx\)/);
    expect(third.stdout).toMatch(/^publish\s+failed\s+not published: run failed/m);
    expect(third.stdout).toMatch(/assertions \d+ passed, 1 failed/);
    expect(third.stdout).toContain("exit 1: data-quality failure: gold not published");
    expect(statSync(join(warehouse, "gold.duckdb")).mtimeMs).toBe(published);

    // Two successful runs posted nothing; the failed one posted one message, names and counts only.
    expect(webhook.posts).toHaveLength(1);
    const text = webhook.posts[0].text;
    expect(text).toMatch(/^duckform pipeline failed on .+ \(exit 1: data-quality failure: gold not published\)$/m);
    expect(text).toMatch(/^• run: \d+ actions succeeded, 1 failed/m);
    expect(text).toContain("failed: duckform.quality.planted_failure");
    expect(text).toContain(`report: ${join(warehouse, "report.html")}`);

    // Without the planted assertion the next run is whole again: its old failure is not counted.
    rmSync(join(dir, "definitions", "assertions", "planted_failure.sqlx"));
    const fourth = await duckform(["pipeline", dir, "--config", config]);
    expect(fourth.code).toBe(0);
    expect(fourth.stdout).toMatch(/^publish\s+ok\s+/m);
    expect(fourth.stdout).toMatch(/assertions \d+ passed, 0 failed/);
    expect(webhook.posts).toHaveLength(1);

    const names = await rows(database, "select display_name from gold.dim_users where display_name is not null limit 50");
    for (const { display_name } of names) expect(text).not.toContain(String(display_name));
  }, 120_000);
});

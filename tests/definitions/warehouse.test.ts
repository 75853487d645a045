import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadNdjson } from "../../loaders/ndjson/load.ts";
import type { SampleManifest } from "../../loaders/sample/generate.ts";
import { loadSeeds } from "../../loaders/seeds/load.ts";
import { loadSlack } from "../../loaders/slack/load.ts";
import { loadTelegram } from "../../loaders/telegram/load.ts";
import { compileProject } from "../../runner/compile.ts";
import { Database } from "../../runner/database.ts";
import { runProject } from "../../runner/run.ts";
import { runUnitTests } from "../../runner/unitTests.ts";
import { sqlRows } from "../util/project.ts";
import { selectEveryView } from "../util/readOnly.ts";
import { tinySample } from "../util/sample.ts";
import { tempDir } from "../util/tmp.ts";

const REPO = resolve(import.meta.dirname, "..", "..");
const CATALOG = "duckform";
const rows = (file: string, sql: string) => sqlRows(file, sql, CATALOG);

let sampleDir: string;
let manifest: SampleManifest;
beforeAll(async () => {
  ({ dir: sampleDir, manifest } = await tinySample());
});

/** Lands seeds, the given event files, and (optionally) the chat exports into a database file. */
async function land(file: string, eventFiles: string[], chats: boolean): Promise<void> {
  const db = await Database.open(file, CATALOG);
  try {
    if (chats) {
      await loadSeeds(db, REPO);
      await loadTelegram(db, [join(sampleDir, "telegram")], { threads: 0 });
      await loadSlack(db, join(sampleDir, "slack"));
    }
    if (eventFiles.length > 0) await loadNdjson(db, eventFiles, { table: "events" });
  } finally {
    db.close();
  }
}

const eventFiles = () =>
  readdirSync(join(sampleDir, "events"))
    .sort()
    .map((f) => join(sampleDir, "events", f));
/** Each gold table's row count and a hash of all its rows, in a fixed order. */
async function goldFingerprint(file: string): Promise<Record<string, unknown>> {
  const tables = await rows(file, "select table_name from duckdb_tables() where schema_name = 'gold' order by 1");
  const out: Record<string, unknown> = {};
  for (const { table_name: table } of tables) {
    const [row] = await rows(
      file,
      `select count(*) as n, md5(coalesce(string_agg(t::varchar, '\n' order by t::varchar), '')) as h from gold.${String(table)} as t`,
    );
    out[String(table)] = row;
  }
  return out;
}

const run = (file: string, options: Parameters<typeof runProject>[1] = {}) =>
  runProject(REPO, { database: file, resultsFile: join(tempDir(), "run_results.json"), concurrency: 2, ...options });

describe("the warehouse on the sample", () => {
  it("builds every layer with every assertion passing, and keeps each planted defect where it belongs", async () => {
    const file = join(tempDir(), "duckform.duckdb");
    await land(file, eventFiles(), true);
    const result = await run(file);
    const failed = result.actions.filter((a) => a.status !== "success");
    expect(failed).toEqual([]);
    expect(result.actions.filter((a) => a.type === "assertion").length).toBeGreaterThanOrEqual(25);

    const events = manifest.events;
    expect(await rows(file, "select count(*) as n from silver.int_events__deduplicated")).toEqual([{ n: events.validEvents }]);
    expect(await rows(file, "select count(*) as n from gold.fct_user_interactions")).toEqual([{ n: events.validEvents }]);
    // Every well-formed line is in bronze, invalid ones with their reasons; malformed lines are quarantined.
    expect(await rows(file, "select count(*) as n from bronze.stg_events__product_events")).toEqual([{ n: events.jsonObjects }]);
    const codes = await rows(
      file,
      "select code, count(*) as n from (select unnest(validation_errors) as code from bronze.stg_events__product_events) group by code order by code",
    );
    const planted: Record<string, number> = {};
    for (const { code } of events.invalid) planted[code] = (planted[code] ?? 0) + 1;
    expect(Object.fromEntries(codes.map((r) => [r.code, r.n]))).toEqual(planted);
    expect(await rows(file, "select count(*) as n from raw.quarantine where source_table = 'events'")).toEqual([
      { n: events.malformed.length },
    ]);
    // Duplicates: the later copy won.
    const dup = events.duplicates[0];
    expect(await rows(file, `select _file from silver.int_events__deduplicated where event_id = '${dup.eventId}'`)).toEqual([
      { _file: dup.file },
    ]);
    // Every message has a person.
    expect(await rows(file, "select count(*) as n from gold.fct_messages where user_key is null")).toEqual([{ n: 0 }]);
    // A copy under another name, opened read-only as a BI tool would, serves every view.
    const copy = join(tempDir(), "copied-warehouse.duckdb");
    copyFileSync(file, copy);
    const views = await selectEveryView(copy);
    expect(views["bronze.stg_events__validated"]).toBe(events.jsonObjects);
    expect(Object.keys(views).filter((v) => v.startsWith("quality.")).length).toBeGreaterThanOrEqual(25);
  });

  it("fails the right assertions, with the right rows, on planted defects", async () => {
    const file = join(tempDir(), "duckform.duckdb");
    await land(file, eventFiles(), true);
    expect((await run(file)).status).toBe("success");

    // An event for an episode nobody published (valid in bronze: episodes are checked across tables),
    // a raw line that vanished after it was validated, and a tampered ledger.
    const extra = join(tempDir(), "planted.ndjson");
    writeFileSync(
      extra,
      JSON.stringify({
        event_id: "planted-1",
        user_id: "user_0001",
        event_type: "play",
        occurred_at: "2024-06-01T12:00:00Z",
        episode_id: "ep_9999",
      }) + "\n",
    );
    await land(file, [extra], false);
    await rows(
      file,
      `delete from raw.events where payload ->> 'event_id' = '${manifest.events.duplicates[0].eventId}' and _file = '${manifest.events.duplicates[0].file}'; select 1`,
    );

    const result = await run(file);
    const status = Object.fromEntries(result.actions.map((a) => [a.name.split(".").pop(), a.status]));
    expect(status.interactions_without_episode).toBe("failed");
    expect(status.raw_events_missing_from_bronze).toBe("failed");
    expect(status.ledger_disagrees_with_raw_rows).toBe("failed");
    expect(status.messages_without_user).toBe("success");
    const failures = await rows(
      file,
      `select assertion, row_json::varchar as row_json from duckform_meta.assertion_failures where run_id = '${result.runId}' order by assertion`,
    );
    const byAssertion = (name: string) =>
      failures.filter((f) => String(f.assertion).endsWith(name)).map((f) => JSON.parse(String(f.row_json)));
    expect(byAssertion("interactions_without_episode")).toEqual([{ event_id: "planted-1", episode_id: "ep_9999" }]);
    const [counts] = byAssertion("raw_events_missing_from_bronze");
    expect(counts.bronze_rows - counts.raw_rows).toBe(1);
    expect(byAssertion("ledger_disagrees_with_raw_rows")).toEqual([
      { source_table: "events", raw_rows: counts.raw_rows, ledger_rows: counts.raw_rows + 1 },
    ]);
  });

  it("lands in three batches with a run after each, and ends with the same gold tables as a full refresh", async () => {
    const file = join(tempDir(), "duckform.duckdb");
    const files = eventFiles();
    const third = Math.ceil(files.length / 3);
    await land(file, files.slice(0, third), true);
    expect((await run(file)).status).toBe("success");
    await land(file, files.slice(third, 2 * third), false);
    expect((await run(file)).status).toBe("success");
    await land(file, files.slice(2 * third), false);
    const last = await run(file);
    expect(last.status).toBe("success");
    expect(last.actions.find((a) => a.name.endsWith("fct_user_interactions"))!.mode).toBe("incremental");

    const incremental = await goldFingerprint(file);
    expect((await run(file, { fullRefresh: true })).status).toBe("success");
    expect(await goldFingerprint(file)).toEqual(incremental);
    expect(Object.keys(incremental)).toContain("fct_user_daily_activity");
  });

  it("after a --replace, a plain run rebuilds what reads the replaced rows and equals a full refresh", async () => {
    const file = join(tempDir(), "duckform.duckdb");
    const files = eventFiles();
    await land(file, files, true);
    expect((await run(file)).status).toBe("success");

    // The same file name, corrected: one event's type changed.
    const corrected = join(tempDir(), basename(files[0]));
    const text = readFileSync(files[0], "utf8");
    writeFileSync(corrected, text.replace('"event_type":"pause"', '"event_type":"complete"'));
    expect(text).not.toBe(readFileSync(corrected, "utf8"));
    const db = await Database.open(file, CATALOG);
    try {
      const [result] = await loadNdjson(db, [corrected], { table: "events", replace: true });
      expect(result.status).toBe("replaced");
    } finally {
      db.close();
    }
    const rerun = await run(file);
    expect(rerun.actions.filter((a) => a.status !== "success")).toEqual([]);
    // Every incremental table downstream of raw.events, and only those, is rebuilt in full, saying why.
    const rebuilt = rerun.actions.filter((a) => a.notes.some((n) => n.startsWith("rebuilt in full: rows of raw.events")));
    expect(rebuilt.map((a) => a.name.split(".").pop()).sort()).toEqual([
      "fct_user_daily_activity",
      "fct_user_episode_activity",
      "fct_user_interactions",
      "int_events__deduplicated",
      "rpt_feature_usage",
      "stg_events__product_events",
    ]);
    expect(rebuilt.every((a) => a.mode === "full")).toBe(true);
    expect(rerun.actions.find((a) => a.name.endsWith("stg_telegram__messages"))!.mode).toBe("incremental");
    const plain = await goldFingerprint(file);
    expect((await run(file, { fullRefresh: true })).status).toBe("success");
    expect(await goldFingerprint(file)).toEqual(plain);
    // Rebuilt once: the run after is incremental again.
    expect((await run(file)).actions.find((a) => a.name.endsWith("fct_user_interactions"))!.mode).toBe("incremental");
  });

  it("passes its own unit tests", async () => {
    const results = await runUnitTests(REPO);
    expect(results.map((r) => [r.name, r.successful, r.messages])).toEqual(results.map((r) => [r.name, true, []]));
    expect(results.length).toBeGreaterThanOrEqual(4);
  });

  it("compiles with the official `dataform compile` to the same graph", () => {
    const official = JSON.parse(
      execFileSync(join(REPO, "node_modules", ".bin", "dataform"), ["compile", REPO, "--json"], { encoding: "utf8", maxBuffer: 64 << 20 }),
    );
    const ours = compileProject(REPO);
    const names = (graph: { tables: { target: { name: string } }[] }) => graph.tables.map((t) => t.target.name).sort();
    expect(names(official)).toEqual(names(ours));
    expect(official.assertions.length).toBe(ours.assertions.length);
    expect(official.graphErrors?.compilationErrors ?? []).toEqual([]);
  }, 60_000);
});

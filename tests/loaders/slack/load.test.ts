import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadNdjson } from "../../../loaders/ndjson/load.ts";
import { loadSeeds } from "../../../loaders/seeds/load.ts";
import { loadSlack } from "../../../loaders/slack/load.ts";
import { loadTelegram } from "../../../loaders/telegram/load.ts";
import { Database } from "../../../runner/database.ts";
import { runProject } from "../../../runner/run.ts";
import { duckform } from "../../util/cli.ts";
import { sqlRows } from "../../util/project.ts";
import { tinySample } from "../../util/sample.ts";
import { queryRows, tempDatabase, tempDir } from "../../util/tmp.ts";

const REPO = resolve(import.meta.dirname, "../../..");

let sampleDir: string;
beforeAll(async () => {
  ({ dir: sampleDir } = await tinySample());
});

/** The sample's Slack export copied without `users.json`. */
function partialExport(): string {
  const dir = join(tempDir(), "slack-partial");
  cpSync(join(sampleDir, "slack"), dir, { recursive: true });
  rmSync(join(dir, "users.json"));
  return dir;
}

describe("a Slack export without users.json", () => {
  it("is refused, naming what is missing, unless --allow-partial, which warns", async () => {
    const partial = partialExport();
    const project = tempDir();
    writeFileSync(join(project, "dataform.json"), JSON.stringify({ defaultDatabase: "demo" }));
    const refused = await duckform(["load", "slack", partial, "--project", project]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `duckform: ${partial} is an incomplete Slack export: it has no users.json, so its messages would land without their ` +
        "authors' or channels' names. Load the complete export, or pass --allow-partial to land it anyway " +
        "(a complete export loaded later fills in what is missing)\n",
    );

    const allowed = await duckform(["load", "slack", partial, "--project", project, "--allow-partial"]);
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toBe(
      `duckform: warning: ${partial} is an incomplete Slack export: it has no users.json; landing it anyway ` +
        "(--allow-partial): authors and channels resolve once a complete export is loaded\n",
    );
    expect(allowed.stdout).toMatch(/\(raw\.slack_channels \d+, raw\.slack_messages \d+\)\n$/);
  }, 60_000);

  it("leaves every raw table in place, and a complete export loaded later resolves the authors on the next run", async () => {
    const file = join(tempDir(), "duckform.duckdb");
    const db = await Database.open(file, "duckform");
    try {
      await loadSeeds(db, REPO);
      await loadTelegram(db, [join(sampleDir, "telegram")], { threads: 0 });
      await loadNdjson(db, [join(sampleDir, "events")], { table: "events" });
      await loadSlack(db, partialExport(), { allowPartial: true });
      expect(await queryRows(db, "select count(*)::int as n from raw.slack_users")).toEqual([{ n: 0 }]);
    } finally {
      db.close();
    }
    const run = () =>
      runProject(REPO, {
        database: file,
        resultsFile: join(tempDir(), "run_results.json"),
        actions: ["int_messages"],
        includeDependencies: true,
      });
    const unresolved =
      "select count(*) filter (where author_name is null) as n from silver.int_messages where source = 'slack' and message_type = 'regular'";
    const first = await run();
    expect(first.actions.filter((a) => a.status !== "success")).toEqual([]);
    expect((await sqlRows(file, unresolved, "duckform"))[0]!.n).toBeGreaterThan(0);

    const again = await Database.open(file, "duckform");
    try {
      const results = await loadSlack(again, join(sampleDir, "slack"));
      // The same workspace (the team id its messages carry), so only users.json is new.
      expect(results.filter((r) => r.status === "landed").map((r) => r.fileName)).toEqual(["T0EARSHOT1/users.json"]);
      expect(results.filter((r) => r.table === "slack_messages").every((r) => r.status === "skipped")).toBe(true);
    } finally {
      again.close();
    }
    const second = await run();
    expect(second.actions.filter((a) => a.status !== "success")).toEqual([]);
    expect(await sqlRows(file, unresolved, "duckform")).toEqual([{ n: 0 }]);
  }, 120_000);
});

describe("Slack elements nested 10,000 deep", () => {
  it("land as messages when they are messages, and are quarantined alone, as their own text, when they cannot be serialised", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "general"));
    const nested = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
    const deepUser = `{"id": "U2", "name": "deep", "profile": {"fields": ${nested}}}`;
    writeFileSync(join(dir, "users.json"), `[\n{"id": "U1", "team_id": "T1", "name": "anna"},\n${deepUser}\n]`);
    writeFileSync(join(dir, "channels.json"), JSON.stringify([{ id: "C1", name: "general" }]));
    const good = (n: number) => JSON.stringify({ type: "message", user: "U1", text: `fine ${n}`, ts: `170929080${n}.000100` });
    const deepMessage = `{"type": "message", "user": "U1", "text": "deep", "ts": "1709290850.000100", "blocks": ${nested}}`;
    writeFileSync(join(dir, "general", "2024-03-01.json"), `[\n${good(1)},\n${deepMessage},\n${nested},\n${good(2)}\n]\n`);
    const db = await tempDatabase();
    const results = await loadSlack(db, dir);
    expect(results.map((r) => [r.fileName, r.rowsLanded, r.rowsQuarantined])).toEqual([
      ["T1/users.json", 1, 1],
      ["T1/channels.json", 1, 0],
      ["T1/general/2024-03-01.json", 3, 1],
    ]);
    const quarantine = await queryRows(db, `select _file, _line, error, raw_line from raw.quarantine order by _file`);
    expect(quarantine.map((q) => [q._file, q._line, q.error])).toEqual([
      ["T1/general/2024-03-01.json", 4, "element cannot be processed: Maximum call stack size exceeded (nested too deeply?)"],
      ["T1/users.json", 3, "element cannot be processed: Maximum call stack size exceeded (nested too deeply?)"],
    ]);
    expect(quarantine.map((q) => q.raw_line)).toEqual([nested, deepUser]);
    expect(await queryRows(db, "select payload->>'$.text' as text from raw.slack_messages order by _line")).toEqual([
      { text: "fine 1" },
      { text: "deep" },
      { text: "fine 2" },
    ]);
  });
});

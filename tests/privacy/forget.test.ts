import { appendFileSync, cpSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { duckform } from "../util/cli.ts";
import { mentionsIn } from "../util/mentions.ts";
import { pipelineProject } from "../util/pipeline.ts";
import { tinySample } from "../util/sample.ts";
import { readOnlyRows } from "../util/tmp.ts";

const rows = readOnlyRows;

// A seed user of the tiny sample who talks on Telegram and Slack: name, Slack handle, e-mail, user id, Slack id.
const VIKTOR = ["Viktor Khan", "viktor.khan", "viktor.khan@earshot.example", "user_0002", "U01CFD8048"];

describe("duckform forget-user", () => {
  it("leaves no row mentioning the person in any table of the working and published databases, records a hashed audit row, and re-landing their files does not bring them back", async () => {
    const { dir, config, database } = await pipelineProject();
    const published = join(dir, "warehouse", "gold.duckdb");
    expect((await duckform(["pipeline", dir, "--config", config])).code).toBe(0);
    const before = await mentionsIn(database, VIKTOR);
    expect(Object.keys(before)).toEqual(
      expect.arrayContaining(["raw.telegram_messages", "raw.slack_users", "seeds.users", "gold.dim_users"]),
    );
    expect(Object.keys(await mentionsIn(published, VIKTOR))).toContain("main.dim_users");
    const usersBefore = (await rows(database, "select count(*) as n from gold.dim_users"))[0].n as number;

    const forget = await duckform(["forget-user", "viktor.khan@earshot.example", dir, "--config", config]);
    expect(forget.stderr).toBe("");
    expect(forget.code).toBe(0);
    expect(forget.stdout).toMatch(/^Forgot person [0-9a-f]{12}… \(\d+ identifiers\): \d+ rows deleted/m);
    expect(forget.stdout).toMatch(/^Republished gold → /m);
    expect(await mentionsIn(database, VIKTOR)).toEqual({});
    expect(await mentionsIn(published, VIKTOR)).toEqual({});
    // Only they left: everyone else is still there.
    expect((await rows(database, "select count(*) as n from gold.dim_users"))[0].n).toBe(usersBefore - 1);

    const audit = await rows(
      database,
      "select action, subject_hash, rows_deleted, tables::varchar as tables from duckform_meta.privacy_audit",
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: "forget", subject_hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(audit[0].rows_deleted as number).toBeGreaterThan(50);
    const tables = JSON.parse(String(audit[0].tables)) as Record<string, { deleted: number }>;
    for (const t of [
      "raw.telegram_messages",
      "raw.slack_messages",
      "raw.slack_users",
      "seeds.users",
      "silver.int_messages",
      "enrichment.message_embeddings",
      "gold.fct_messages",
    ]) {
      expect(tables[t]?.deleted, t).toBeGreaterThan(0);
    }

    // The same exports again under new names (so the ledger lands them), and the seeds reloaded.
    const { dir: sample } = await tinySample();
    const again = join(dir, "again");
    mkdirSync(join(again, "events"), { recursive: true });
    for (const f of readdirSync(join(sample, "events"))) cpSync(join(sample, "events", f), join(again, "events", `again-${f}`));
    // The ledger knows Telegram pages by their bytes: a re-export that differs (here, by a comment) lands again.
    cpSync(join(sample, "telegram"), join(again, "telegram-export"), { recursive: true });
    for (const page of readdirSync(join(again, "telegram-export"), { recursive: true, encoding: "utf8" }).filter((f) =>
      f.endsWith(".html"),
    ))
      appendFileSync(join(again, "telegram-export", page), "<!-- exported again -->\n");
    appendFileSync(
      config,
      [
        "  - kind: ndjson",
        "    name: events again",
        `    paths: ${join(again, "events")}`,
        "    table: events",
        "  - kind: telegram",
        "    name: telegram again",
        `    paths: [${join(again, "telegram-export")}]`,
        "",
      ].join("\n"),
    );
    appendFileSync(join(dir, "seeds", "seeds.yaml"), "# touched: the seeds are loaded again\n");
    const rerun = await duckform(["pipeline", dir, "--config", config]);
    expect(rerun.stderr).toBe("");
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toMatch(/^seed\s+ok/m);
    expect(rerun.stdout).toMatch(/^load events again\s+ok\s+78 of 78 files new/m);
    expect(rerun.stdout).toMatch(/^load telegram again\s+ok/m);
    expect(await mentionsIn(database, VIKTOR)).toEqual({});
    expect(await mentionsIn(published, VIKTOR)).toEqual({});

    // Again, as after a crash: nothing left to do, no second audit row.
    const twice = await duckform(["forget-user", "user_0002", dir, "--config", config]);
    expect(twice.code).toBe(0);
    expect(twice.stdout).toMatch(/was already forgotten; swept again: 0 rows deleted, 0 redacted/);
    expect(await rows(database, "select count(*) as n from duckform_meta.privacy_audit")).toEqual([{ n: 1 }]);
  }, 300_000);

  it("names what it looked for when nobody has that identifier, and changes nothing", async () => {
    const { dir, config } = await pipelineProject();
    expect((await duckform(["pipeline", dir, "--config", config])).code).toBe(0);
    const result = await duckform(["forget-user", "nobody@nowhere.example", dir, "--config", config]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /nobody in .*duckform\.duckdb has the user id, e-mail or handle "nobody@nowhere\.example" \(looked in silver\.int_user_identities, .*\); nothing was changed/,
    );
  });
});

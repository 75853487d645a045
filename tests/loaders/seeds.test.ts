import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Database } from "../../runner/database.ts";
import { UserError } from "../../runner/errors.ts";
import { parseCsv } from "../../loaders/csv.ts";
import { loadSeeds } from "../../loaders/seeds/load.ts";
import { parse as parseYaml } from "yaml";
import { SAMPLE_SEEDS_YAML, sampleSeedCsvs } from "../../loaders/sample/seedFiles.ts";
import { duckform } from "../util/cli.ts";
import { queryRows, tempDatabase, tempDir } from "../util/tmp.ts";

const repo = fileURLToPath(new URL("../../", import.meta.url));

/** A project folder with `seeds/` holding `files`. */
function project(files: Record<string, string>): string {
  const dir = tempDir("duckform-seeds-");
  mkdirSync(join(dir, "seeds"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, "seeds", name), text);
  return dir;
}

const yaml = `seeds:
  people:
    column_types:
      id: INTEGER
      joined: DATE
      active: BOOLEAN
`;

describe("parseCsv", () => {
  it("reads quoted commas, doubled quotes and quoted newlines, numbering records by their first line", () => {
    expect(parseCsv('a,b\r\n"x, y","say ""hi"""\n"two\nlines",\n\nlast,1')).toEqual([
      { line: 1, fields: ["a", "b"] },
      { line: 2, fields: ["x, y", 'say "hi"'] },
      { line: 3, fields: ["two\nlines", ""] },
      { line: 6, fields: ["last", "1"] },
    ]);
  });
});

describe("loadSeeds", () => {
  it("loads each CSV into seeds.<name> with the declared types, empty fields as NULL", async () => {
    const dir = project({ "seeds.yaml": yaml, "people.csv": "id,name,joined,active\n1,Anna,2024-01-05,true\n2,,2024-02-29,false\n" });
    const db = await tempDatabase();
    const results = await loadSeeds(db, dir);
    expect(results.map((r) => [r.table, r.rows])).toEqual([["seeds.people", 2]]);
    expect(await queryRows(db, "select id, name, joined::varchar as joined, active from seeds.people order by id")).toEqual([
      { id: 1, name: "Anna", joined: "2024-01-05", active: true },
      { id: 2, name: null, joined: "2024-02-29", active: false },
    ]);
    const types = await queryRows(
      db,
      "select column_name, data_type from information_schema.columns where table_schema = 'seeds' order by ordinal_position",
    );
    expect(types.map((t) => `${t.column_name} ${t.data_type}`)).toEqual(["id INTEGER", "name VARCHAR", "joined DATE", "active BOOLEAN"]);
  });

  it("fails on a bad value naming file, line, column and value, and keeps the old table", async () => {
    const dir = project({ "seeds.yaml": yaml, "people.csv": "id,name,joined,active\n1,Anna,2024-01-05,true\n" });
    const db = await tempDatabase();
    await loadSeeds(db, dir);
    writeFileSync(join(dir, "seeds", "people.csv"), 'id,name,joined,active\n1,Anna,2024-01-05,true\n2,"Ben\nIto",2024-02-30,true\n');
    const failure = loadSeeds(db, dir);
    await expect(failure).rejects.toThrow(UserError);
    await expect(failure).rejects.toThrow('seeds/people.csv line 3, column joined: "2024-02-30" is not a valid DATE');
    expect(await queryRows(db, "select count(*)::int as n from seeds.people")).toEqual([{ n: 1 }]);
  });

  it("replaces all seeds in one transaction: a bad second seed leaves the first one untouched", async () => {
    const dir = project({ "a.csv": "x\n1\n", "b.csv": "y\n2\n", "seeds.yaml": "seeds:\n  b:\n    column_types:\n      y: INTEGER\n" });
    const db = await tempDatabase();
    await loadSeeds(db, dir);
    writeFileSync(join(dir, "seeds", "a.csv"), "x\nnew\n");
    writeFileSync(join(dir, "seeds", "b.csv"), "y\nseven\n");
    await expect(loadSeeds(db, dir)).rejects.toThrow('seeds/b.csv line 2, column y: "seven" is not a valid INTEGER');
    expect(await queryRows(db, "select x from seeds.a")).toEqual([{ x: "1" }]);
  });

  it("names the line of a row with the wrong number of fields, an unknown type and a missing column", async () => {
    const db = await tempDatabase();
    await expect(loadSeeds(db, project({ "p.csv": "a,b\n1,2\n3\n" }))).rejects.toThrow("seeds/p.csv line 3: expected 2 fields, found 1");
    await expect(
      loadSeeds(db, project({ "p.csv": "a\n1\n", "seeds.yaml": "seeds:\n  p:\n    column_types:\n      a: NUMBERISH\n" })),
    ).rejects.toThrow(/seed "p" column "a": "NUMBERISH" is not a DuckDB type/);
    await expect(
      loadSeeds(db, project({ "p.csv": "a\n1\n", "seeds.yaml": "seeds:\n  p:\n    column_types:\n      b: INTEGER\n" })),
    ).rejects.toThrow('declares column "b" for seed "p", but seeds/p.csv has no such column');
  });

  it("loads the project's shipped seeds with their declared types", async () => {
    const db = await tempDatabase();
    const results = await loadSeeds(db, repo);
    expect(Object.fromEntries(results.map((r) => [r.table, r.rows]))).toMatchObject({
      "seeds.company_mapping": 23,
      "seeds.message_categories": 9,
      "seeds.podcast_episodes": 48,
      "seeds.users": 300,
    });
    expect(
      await queryRows(
        db,
        `select count(*)::int as users, count(slack_user_id)::int as in_slack, count(telegram_name)::int as in_telegram,
                count(*) filter (is_internal)::int as staff,
                count(*) filter (company is not null and company not in (select variant_name from seeds.company_mapping))::int as unmapped
         from seeds.users`,
      ),
    ).toEqual([{ users: 300, in_slack: expect.any(Number), in_telegram: expect.any(Number), staff: 6, unmapped: 0 }]);
    expect(await queryRows(db, "select keywords from seeds.message_categories where category = 'bug_report'")).toEqual([
      { keywords: ["bug", "crash", "crashes", "error", "broken", "stuck", "doesn't work", "won't play", "freezes", "glitch"] },
    ]);
  });

  it("ships seeds/ exactly as the sample world writes them, so seeds and samples name the same people", () => {
    for (const [name, text] of Object.entries(sampleSeedCsvs())) {
      expect(readFileSync(join(repo, "seeds", name), "utf8"), name).toBe(text);
    }
    const shipped = parseYaml(readFileSync(join(repo, "seeds", "seeds.yaml"), "utf8")).seeds;
    for (const [name, settings] of Object.entries(parseYaml(SAMPLE_SEEDS_YAML).seeds as Record<string, { column_types: unknown }>)) {
      expect(shipped[name]?.column_types, name).toEqual(settings.column_types);
    }
  });

  it("runs as `duckform seed`: a summary and exit 0, then a bad value's message without a stack and exit 1", async () => {
    const dir = project({ "seeds.yaml": yaml, "people.csv": "id,name,joined,active\n1,Anna,2024-01-05,true\n" });
    writeFileSync(join(dir, "dataform.json"), JSON.stringify({ defaultDatabase: "demo", defaultSchema: "main" }));
    const ok = await duckform(["seed", "--project", dir]);
    expect(ok).toMatchObject({ code: 0, stdout: "seed: 1 tables (seeds.people 1 rows)\n" });
    expect(await queryRowsOf(join(dir, "demo.duckdb"), "select name from seeds.people")).toEqual([{ name: "Anna" }]);
    writeFileSync(join(dir, "seeds", "people.csv"), "id,name,joined,active\nseven,Anna,2024-01-05,true\n");
    const bad = await duckform(["seed", "--project", dir]);
    expect(bad).toMatchObject({ code: 1, stderr: 'duckform: seeds/people.csv line 2, column id: "seven" is not a valid INTEGER\n' });
  }, 30_000);
});

async function queryRowsOf(file: string, sql: string): Promise<Record<string, unknown>[]> {
  const db = await Database.open(file, "demo");
  try {
    return await queryRows(db, sql);
  } finally {
    db.close();
  }
}

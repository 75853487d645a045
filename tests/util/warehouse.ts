import { cpSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadNdjson } from "../../loaders/ndjson/load.ts";
import { loadSeeds } from "../../loaders/seeds/load.ts";
import { loadSlack } from "../../loaders/slack/load.ts";
import { loadTelegram } from "../../loaders/telegram/load.ts";
import { Database } from "../../runner/database.ts";
import { tinySample } from "./sample.ts";
import { tempDir } from "./tmp.ts";

const REPO = resolve(import.meta.dirname, "..", "..");

/**
 * The repo's warehouse project (definitions, includes, dataform.json) copied into a temp dir with
 * the tiny sample landed in its duckform.duckdb, so CLI runs write run_results.json there, not here.
 */
export async function landedWarehouse(): Promise<{ dir: string; file: string }> {
  const dir = join(tempDir("duckform-warehouse-"), "project");
  for (const part of ["definitions", "includes", "dataform.json"]) cpSync(join(REPO, part), join(dir, part), { recursive: true });
  const file = join(dir, "duckform.duckdb");
  const { dir: sample } = await tinySample();
  const db = await Database.open(file, "duckform");
  try {
    await loadSeeds(db, REPO);
    await loadTelegram(db, [join(sample, "telegram")], { threads: 0 });
    await loadSlack(db, join(sample, "slack"));
    await loadNdjson(
      db,
      readdirSync(join(sample, "events"))
        .sort()
        .map((f) => join(sample, "events", f)),
      { table: "events" },
    );
  } finally {
    db.close();
  }
  return { dir, file };
}

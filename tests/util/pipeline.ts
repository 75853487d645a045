import { cpSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tinySample } from "./sample.ts";
import { tempDir } from "./tmp.ts";

const REPO = resolve(import.meta.dirname, "..", "..");

/**
 * The repo's warehouse project copied into a temp dir with a duckform.yaml that lists the tiny
 * sample's three sources and puts the database in `warehouse/`, as a user's config would.
 */
export async function pipelineProject(extraConfig = ""): Promise<{ dir: string; config: string; database: string }> {
  const dir = join(tempDir("duckform-pipeline-"), "project");
  for (const part of ["definitions", "includes", "dataform.json", "seeds"]) cpSync(join(REPO, part), join(dir, part), { recursive: true });
  const { dir: sample } = await tinySample();
  const config = join(dir, "duckform.yaml");
  writeFileSync(
    config,
    [
      "database: warehouse/duckform.duckdb",
      "sources:",
      "  - kind: ndjson",
      "    name: events",
      `    paths: ${join(sample, "events")}`,
      "    table: events",
      "  - kind: telegram",
      `    paths: [${join(sample, "telegram")}]`,
      "  - kind: slack",
      `    paths: [${join(sample, "slack")}]`,
      extraConfig,
    ].join("\n"),
  );
  return { dir, config, database: join(dir, "warehouse", "duckform.duckdb") };
}

/**
 * The main job, `npm start`: build the whole warehouse on the bundled sample, the way a user
 * would with the CLI, step by step. Rerunning it lands nothing twice (the ledger skips files
 * already landed) and runs the definitions incrementally.
 *
 *   npm start                      sample in data/sample → duckform.duckdb, gold.duckdb, report.html
 *   npm start -- --sample DIR      use (or create) another sample folder
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { $ } from "zx";

const root = resolve(import.meta.dirname, "..");
const args = process.argv.slice(2);
const sampleAt = args.indexOf("--sample");
const sample = resolve(sampleAt >= 0 ? args[sampleAt + 1] : join(root, "data", "sample"));

$.verbose = true;
$.cwd = root;
const duckform = ["node", join(root, "bin", "duckform.js")];

try {
  if (!existsSync(join(sample, "manifest.json"))) await $`${duckform} generate-sample ${sample}`;
  await $`${duckform} seed`;
  await $`${duckform} load ndjson ${join(sample, "events")} --table events`;
  await $`${duckform} load telegram ${join(sample, "telegram")}`;
  await $`${duckform} load slack ${join(sample, "slack")}`;
  await $`${duckform} run`;
  // Enrichment reads silver messages, so it comes after a run; the second run builds the topic
  // and entity dimensions from its annotations (incrementally: the rest is already built).
  await $`${duckform} enrich --embeddings`;
  // Publishes gold.duckdb for BI tools only if the gold assertions passed (else the run fails here).
  await $`${duckform} run --publish`;
  await $`${duckform} test`;
  await $`${duckform} report`;
  console.log(
    `\nThe warehouse is in ${join(root, "duckform.duckdb")}.` +
      `\nThe data-quality report is ${join(root, "report.html")}: open it in a browser, offline.` +
      `\nGold for BI tools is published in ${join(root, "gold.duckdb")} (open it read-only; see README "Query gold from your BI tool").`,
  );
} catch (error) {
  // The failing step has printed its own message; zx adds nothing a user needs.
  process.exitCode = (error as { exitCode?: number }).exitCode ?? 1;
}

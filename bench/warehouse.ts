/**
 * Warehouse benchmark (issue 4): on a generated 2 M-event sample, time a full refresh of every
 * definition, then land the newest ~1 % of the events (the last daily files, as the next days'
 * files would arrive) and time the incremental run, in one run on one database.
 * Target: incremental <= 0.05x the full refresh.
 * Run: npx tsx bench/warehouse.ts [events]
 */
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadNdjson } from "../loaders/ndjson/load.ts";
import { generateSample } from "../loaders/sample/generate.ts";
import { loadSeeds } from "../loaders/seeds/load.ts";
import { loadSlack } from "../loaders/slack/load.ts";
import { loadTelegram } from "../loaders/telegram/load.ts";
import { Database } from "../runner/database.ts";
import { runProject, type RunOptions } from "../runner/run.ts";

const ROOT = resolve(import.meta.dirname, "..");
const OUT = join(ROOT, "bench", "out", "warehouse");
const events = Number(process.argv[2] ?? 2_000_000);
const file = join(OUT, "duckform.duckdb");

function seconds(start: number): number {
  return (performance.now() - start) / 1000;
}

async function land(work: (db: Database) => Promise<unknown>): Promise<void> {
  const db = await Database.open(file, "duckform");
  try {
    await work(db);
  } finally {
    db.close();
  }
}

rmSync(OUT, { recursive: true, force: true });
let start = performance.now();
await generateSample(join(OUT, "sample"), { events });
// Hold back the newest daily files, about 1 % of the bytes, to land after the full refresh.
const eventsDir = join(OUT, "sample", "events");
const extra = join(OUT, "extra");
mkdirSync(extra, { recursive: true });
const files = readdirSync(eventsDir).sort();
const total = files.reduce((sum, f) => sum + statSync(join(eventsDir, f)).size, 0);
let held = 0;
for (const name of [...files].reverse()) {
  if (held >= total / 100) break;
  held += statSync(join(eventsDir, name)).size;
  renameSync(join(eventsDir, name), join(extra, name));
}
console.log(
  `generated ${events} events in ${seconds(start).toFixed(1)} s; held back ${readdirSync(extra).length} files (${((100 * held) / total).toFixed(2)} % of bytes)`,
);

start = performance.now();
mkdirSync(OUT, { recursive: true });
await land(async (db) => {
  await loadSeeds(db, ROOT);
  await loadNdjson(db, [join(OUT, "sample", "events")], { table: "events" });
  await loadTelegram(db, [join(OUT, "sample", "telegram")]);
  await loadSlack(db, join(OUT, "sample", "slack"));
});
console.log(`landed in ${seconds(start).toFixed(1)} s`);

const options: RunOptions = { database: file, resultsFile: join(OUT, "run_results.json") };
const timed = async (label: string, more: RunOptions) => {
  const t = performance.now();
  const run = await runProject(ROOT, { ...options, ...more });
  const elapsed = seconds(t);
  if (run.status !== "success")
    throw new Error(`${label} failed: ${JSON.stringify(run.actions.filter((a) => a.error).map((a) => a.error))}`);
  const slowest = [...run.actions].sort((a, b) => b.seconds - a.seconds).slice(0, 4);
  // Actions overlap (--concurrency), so these sums say where the work is, not the wall time.
  const sum = (f: (a: (typeof run.actions)[number]) => boolean) => run.actions.filter(f).reduce((s, a) => s + a.seconds, 0);
  const assertions = sum((a) => a.type === "assertion");
  const models = sum((a) => a.type !== "assertion");
  console.log(`${label}: ${elapsed.toFixed(2)} s wall; action seconds: models ${models.toFixed(2)}, assertions ${assertions.toFixed(2)}`);
  console.log(`  slowest: ${slowest.map((a) => `${a.name.split(".").pop()} ${a.seconds.toFixed(2)}s`).join(", ")}`);
  return { elapsed, models, assertions };
};

const full = await timed("full refresh", { fullRefresh: true });
await land((db) => loadNdjson(db, [extra], { table: "events" }));
const incremental = await timed("incremental after +1 %", {});
console.log(
  `ratio: ${(incremental.elapsed / full.elapsed).toFixed(3)}x wall (target <= 0.05x); models only ${(incremental.models / full.models).toFixed(3)}x, assertions ${(incremental.assertions / full.assertions).toFixed(3)}x`,
);

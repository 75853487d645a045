/**
 * Run benchmark: `duckform run --full-refresh` against executing the same compiled SQL as one
 * script through DuckDB directly, on the same generated project, each on a fresh database
 * file, alternating, in one run. Run: npx tsx bench/run.ts [rows] [rounds]
 */
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { Database } from "../runner/database.ts";
import { runProject } from "../runner/run.ts";
import { generateProject } from "./project.ts";

const ROOT = resolve(import.meta.dirname, "..");
const dir = join(ROOT, "bench", "out", "run-project");
const rows = Number(process.argv[2] ?? 2_000_000);
generateProject(dir, { rows, layers: 6, width: 4 });
const ROUNDS = Number(process.argv[3] ?? 5);

function fresh(name: string): string {
  const file = join(dir, name);
  rmSync(file, { force: true });
  rmSync(`${file}.wal`, { force: true });
  return file;
}

// The script: what `--dry-run` prints on an empty database, every statement of every action.
const plan = await runProject(dir, { dryRun: true, database: join(dir, "none.duckdb") });
const schemas = ["bench", "bench_assertions"].map((s) => `create schema if not exists "bench-db"."${s}";`);
const script = [...schemas, ...plan.actions.flatMap((a) => (a.sql ?? []).map((s) => `${s.trim()};`))].join("\n");

async function direct(): Promise<number> {
  const start = performance.now();
  const db = await Database.open(fresh("direct.duckdb"), "bench-db");
  try {
    await db.withConnection((c) => c.run(script));
  } finally {
    db.close();
  }
  return (performance.now() - start) / 1000;
}

async function duckform(): Promise<number> {
  const start = performance.now();
  const run = await runProject(dir, { fullRefresh: true, database: fresh("duckform.duckdb"), resultsFile: join(dir, "run_results.json") });
  if (run.status !== "success") throw new Error(`run failed: ${JSON.stringify(run.actions.filter((a) => a.error))}`);
  return (performance.now() - start) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const directTimes: number[] = [];
const duckformTimes: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  directTimes.push(await direct());
  duckformTimes.push(await duckform());
}
const d = median(directTimes);
const r = median(duckformTimes);
console.log(`project: ${plan.actions.length} actions over ${rows} source rows; median of ${ROUNDS} rounds`);
console.log(`DuckDB, compiled SQL as one script: ${d.toFixed(3)} s  (${directTimes.map((t) => t.toFixed(2)).join(", ")})`);
console.log(`duckform run --full-refresh:        ${r.toFixed(3)} s  (${duckformTimes.map((t) => t.toFixed(2)).join(", ")})`);
const best = Math.min(...duckformTimes) / Math.min(...directTimes);
console.log(
  `ratio: ${(r / d).toFixed(3)}x of medians, ${best.toFixed(3)}x of best runs  (target <= 1.1x; includes compile, state, transactions, history)`,
);

/**
 * Serving benchmark (issue 17), on the 2 M-event warehouse that bench/warehouse.ts leaves in
 * bench/out/warehouse (run that first):
 *   - `duckform report`: wall time and HTML size. Targets: < 10 s, < 20 MB.
 *   - `duckform publish` against DuckDB's own `COPY FROM DATABASE` of the same tables (the
 *     published file copied as it is), alternating, in one run. Target: publish < 2x the copy.
 * Run: npx tsx bench/serving.ts [rounds]
 */
import { existsSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { publishGold } from "../runner/publish.ts";
import { quoteLiteral } from "../runner/quote.ts";
import { writeReport } from "../report/report.ts";

const ROOT = resolve(import.meta.dirname, "..");
const OUT = join(ROOT, "bench", "out", "warehouse");
const database = join(OUT, "duckform.duckdb");
const rounds = Number(process.argv[2] ?? 3);
if (!existsSync(database)) throw new Error(`${database} is missing: run npx tsx bench/warehouse.ts first`);

const seconds = (start: number) => (performance.now() - start) / 1000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// The first report pays for a cold page cache and esbuild's start; each is printed.
const reportSeconds: number[] = [];
let bytes = 0;
for (let i = 0; i < rounds; i++) {
  const start = performance.now();
  bytes = (await writeReport(ROOT, { database, out: join(OUT, "report.html") })).bytes;
  reportSeconds.push(seconds(start));
}
console.log(
  `report: ${reportSeconds.map((s) => s.toFixed(2)).join(", ")} s (worst ${Math.max(...reportSeconds).toFixed(2)} s), ` +
    `${(bytes / 1e6).toFixed(2)} MB (targets < 10 s, < 20 MB)`,
);

const published = join(OUT, "gold.duckdb");
const peer = join(OUT, "peer.duckdb");

async function publish(): Promise<number> {
  const t = performance.now();
  const manifest = await publishGold(ROOT, { database, to: published });
  const elapsed = seconds(t);
  if (manifest.tables.length === 0) throw new Error("published nothing");
  return elapsed;
}

/** DuckDB's own copy of the same tables into a fresh file: attach both, COPY FROM DATABASE, checkpoint. */
async function copyFromDatabase(): Promise<number> {
  rmSync(peer, { force: true });
  rmSync(`${peer}.wal`, { force: true });
  const t = performance.now();
  const instance = await DuckDBInstance.create(":memory:");
  try {
    const c = await instance.connect();
    await c.run(`attach ${quoteLiteral(published)} as src (read_only); attach ${quoteLiteral(peer)} as dst`);
    await c.run("copy from database src to dst");
    await c.run("checkpoint dst");
    c.closeSync();
  } finally {
    instance.closeSync();
  }
  return seconds(t);
}

await publish(); // the peer copies what publish wrote, so publish once before the first round
const ours: number[] = [];
const theirs: number[] = [];
for (let i = 0; i < rounds; i++) {
  ours.push(await publish());
  theirs.push(await copyFromDatabase());
}
const mb = (f: string) => (statSync(f).size / 1e6).toFixed(1);
console.log(`publish: ${ours.map((s) => s.toFixed(2)).join(", ")} s → ${mb(published)} MB`);
console.log(`COPY FROM DATABASE: ${theirs.map((s) => s.toFixed(2)).join(", ")} s → ${mb(peer)} MB`);
console.log(
  `ratio publish / COPY FROM DATABASE: ${(median(ours) / median(theirs)).toFixed(2)}x medians, ` +
    `${(Math.min(...ours) / Math.min(...theirs)).toFixed(2)}x best (target < 2x)`,
);

/**
 * A BI tool's stand-in, run as its own process: holds a published gold file open read-only and
 * reads every table over and over, checking each count against the manifest of its snapshot,
 * until a line arrives on stdin. Then it opens a new connection and reports the run it sees.
 *   node --import tsx tests/util/publishedReader.ts gold.duckdb
 * Prints one JSON line when ready and one when done: { runId, iterations, errors, mismatches, newRunId }.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { quoteQualified } from "../../runner/quote.ts";

const file = process.argv[2];

async function open(): Promise<{ instance: DuckDBInstance; manifest: { runId: string; counts: Map<string, number> } }> {
  const instance = await DuckDBInstance.create(file, { access_mode: "READ_ONLY" });
  const connection = await instance.connect();
  const rows = (
    await connection.runAndReadAll("select run_id, schema_name, table_name, row_count from duckform_meta.publish_manifest")
  ).getRows();
  connection.closeSync();
  return {
    instance,
    manifest: { runId: String(rows[0][0]), counts: new Map(rows.map((r) => [quoteQualified(String(r[1]), String(r[2])), Number(r[3])])) },
  };
}

let stop = false;
process.stdin.on("data", () => (stop = true));
process.stdin.on("end", () => (stop = true));

const { instance, manifest } = await open();
console.log(JSON.stringify({ ready: true, runId: manifest.runId, tables: manifest.counts.size }));
let iterations = 0;
const errors: string[] = [];
const mismatches: string[] = [];
while (!stop) {
  try {
    const connection = await instance.connect();
    for (const [table, expected] of manifest.counts) {
      const n = Number((await connection.runAndReadAll(`select count(*) from ${table}`)).getRows()[0][0]);
      if (n !== expected) mismatches.push(`${table}: ${n} rows, manifest says ${expected}`);
    }
    connection.closeSync();
  } catch (error) {
    errors.push(String(error));
  }
  iterations++;
  await new Promise((resolve) => setTimeout(resolve, 5));
}
instance.closeSync();
const after = await open();
after.instance.closeSync();
console.log(JSON.stringify({ runId: manifest.runId, iterations, errors, mismatches, newRunId: after.manifest.runId }));

/**
 * NDJSON landing throughput: `loadNdjson` against DuckDB's own `read_ndjson_objects` into a
 * table, on the same generated 2M-line file, each measured in its own child process so that
 * its peak RSS is its own. Rounds alternate peer and loader so that a busy machine slows both.
 *
 *   npx tsx bench/ndjson.ts [--lines 2000000] [--rounds 3]
 *
 * Targets (issue 3): time ≤ 1.2× the peer's, peak RSS ≤ 600 MB.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";
import { Database } from "../runner/database.ts";
import { quoteLiteral } from "../runner/quote.ts";
import { loadNdjson } from "../loaders/ndjson/load.ts";
import { generateEvents } from "./generate-events.ts";

interface Measure {
  seconds: number;
  cpuSeconds: number;
  maxRssMb: number;
  rows: number;
}

const here = dirname(fileURLToPath(import.meta.url));

async function child(kind: string, file: string): Promise<Measure> {
  const dir = mkdtempSync(join(tmpdir(), "duckform-bench-"));
  try {
    const started = performance.now();
    const cpu = process.cpuUsage();
    let rows = 0;
    if (kind === "peer") {
      const instance = await DuckDBInstance.create(join(dir, "peer.duckdb"));
      try {
        const connection = await instance.connect();
        try {
          await connection.run(`create table events as select json as payload from read_ndjson_objects(${quoteLiteral(file)})`);
          rows = Number((await connection.runAndReadAll("select count(*) from events")).getRows()[0][0]);
        } finally {
          connection.closeSync();
        }
      } finally {
        instance.closeSync();
      }
    } else {
      const db = await Database.open(join(dir, "duckform.duckdb"), "duckform");
      try {
        const [result] = await loadNdjson(db, [file], { table: "events" });
        rows = result.rowsLanded;
      } finally {
        db.close();
      }
    }
    const used = process.cpuUsage(cpu);
    return {
      seconds: (performance.now() - started) / 1000,
      cpuSeconds: (used.user + used.system) / 1e6,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      rows,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runChild(kind: string, file: string): Measure {
  const out = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--child", kind, file], {
    encoding: "utf8",
    maxBuffer: 1 << 20,
  });
  if (out.status !== 0) throw new Error(`${kind} child failed (${out.status}): ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split("\n").pop()!) as Measure;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: "string" },
      lines: { type: "string", default: "2000000" },
      rounds: { type: "string", default: "3" },
    },
    allowPositionals: true,
    strict: false,
  });
  if (typeof values.child === "string") {
    const file = process.argv[process.argv.length - 1];
    console.log(JSON.stringify(await child(values.child, file)));
    return;
  }
  const lines = Number(values.lines);
  const rounds = Number(values.rounds);
  const outDir = join(here, "out");
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `events-${lines}.ndjson`);
  if (!existsSync(file)) {
    const started = performance.now();
    await generateEvents(file, lines, 42);
    console.log(`generated ${file} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const mb = statSync(file).size / 1e6;
  console.log(`file: ${lines.toLocaleString("en")} lines, ${mb.toFixed(0)} MB (seeded; reused when present)`);
  const peer: Measure[] = [];
  const loader: Measure[] = [];
  for (let round = 1; round <= rounds; round++) {
    peer.push(runChild("peer", file));
    loader.push(runChild("loader", file));
    const p = peer[peer.length - 1];
    const l = loader[loader.length - 1];
    console.log(
      `round ${round}: read_ndjson_objects ${p.seconds.toFixed(2)} s (cpu ${p.cpuSeconds.toFixed(2)} s, ${p.maxRssMb.toFixed(0)} MB)` +
        ` | loadNdjson ${l.seconds.toFixed(2)} s (cpu ${l.cpuSeconds.toFixed(2)} s, ${l.maxRssMb.toFixed(0)} MB)` +
        ` | ratio ${(l.seconds / p.seconds).toFixed(2)}×`,
    );
    if (l.rows !== p.rows) throw new Error(`row counts differ: loader ${l.rows}, peer ${p.rows}`);
  }
  const ratio = median(loader.map((m) => m.seconds)) / median(peer.map((m) => m.seconds));
  const cpuRatio = median(loader.map((m) => m.cpuSeconds)) / median(peer.map((m) => m.cpuSeconds));
  const rss = Math.max(...loader.map((m) => m.maxRssMb));
  console.log(
    `median: read_ndjson_objects ${median(peer.map((m) => m.seconds)).toFixed(2)} s, ` +
      `loadNdjson ${median(loader.map((m) => m.seconds)).toFixed(2)} s (${(lines / median(loader.map((m) => m.seconds)) / 1e6).toFixed(2)} M lines/s, ` +
      `${(mb / median(loader.map((m) => m.seconds))).toFixed(0)} MB/s)`,
  );
  console.log(`ratio (wall) ${ratio.toFixed(2)}× — target ≤ 1.20× ${ratio <= 1.2 ? "met" : "NOT met"}`);
  console.log(`ratio (cpu)  ${cpuRatio.toFixed(2)}×`);
  console.log(
    `loader peak RSS ${rss.toFixed(0)} MB — target ≤ 600 MB ${rss <= 600 ? "met" : "NOT met"}; ` +
      `peer peak RSS ${Math.max(...peer.map((m) => m.maxRssMb)).toFixed(0)} MB`,
  );
}

await main();

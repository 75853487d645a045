/**
 * NDJSON landing throughput: `loadNdjson` against DuckDB's own `read_ndjson_objects` into a
 * table, on the same generated inputs, each measured in its own child process so that its peak
 * RSS is its own. Rounds alternate peer and loader so that a busy machine slows both.
 *
 *   npx tsx bench/ndjson.ts [--lines 2000000] [--rounds 3] [--only events|wide|directory]
 *
 * Inputs: `events`, 2M product events of ~380 bytes; `wide`, 4,000 GH-Archive-like lines of
 * 10 KB (41 MB); `directory`, ten such files (400 MB), the 4 real GH Archive events, a 24 MB
 * single line and a truncated gzip in the middle, which the loader must name and the peer is
 * not given. The loader runs with its default memory and, for the directory, also under a
 * user's `--memory-limit 4GB`.
 * Targets (issues 3 and 16): time ≤ 1.2× the peer's, peak RSS ≤ 600 MB.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";
import { Database } from "../runner/database.ts";
import { quoteLiteral } from "../runner/quote.ts";
import { loadNdjson } from "../loaders/ndjson/load.ts";
import { generateEvents, wideEvents, writeBigFilesDirectory } from "./generateEvents.ts";

interface Measure {
  seconds: number;
  cpuSeconds: number;
  maxRssMb: number;
  rows: number;
  failed: number;
}

const here = dirname(fileURLToPath(import.meta.url));

/** One landing of `files` in a fresh database: DuckDB's own reader, or the loader (with a memory limit or DuckDB's default). */
async function child(kind: string, files: string[], memoryLimit?: string): Promise<Measure> {
  const dir = mkdtempSync(join(tmpdir(), "duckform-bench-"));
  try {
    const started = performance.now();
    const cpu = process.cpuUsage();
    let rows = 0;
    let failed = 0;
    if (kind === "peer") {
      const instance = await DuckDBInstance.create(join(dir, "peer.duckdb"));
      try {
        const connection = await instance.connect();
        try {
          if (memoryLimit) await connection.run(`set memory_limit = ${quoteLiteral(memoryLimit)}`);
          const list = `[${files.map(quoteLiteral).join(", ")}]`;
          // DuckDB's 16 MB default object size would refuse the directory's 24 MB line.
          await connection.run(
            `create table events as select json as payload from read_ndjson_objects(${list}, maximum_object_size = ${64 * 2 ** 20})`,
          );
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
        const results = await loadNdjson(db, files, { table: "events", memoryLimit });
        rows = results.reduce((n, r) => n + r.rowsLanded, 0);
        failed = results.filter((r) => r.status === "failed").length;
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
      failed,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runChild(kind: string, files: string[], memoryLimit?: string): Measure {
  const args = [
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    "--child",
    kind,
    ...(memoryLimit ? ["--memory-limit", memoryLimit] : []),
    ...files,
  ];
  const out = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 20 });
  if (out.status !== 0) throw new Error(`${kind} child failed (${out.status}): ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split("\n").pop()!) as Measure;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

interface Scenario {
  name: string;
  /** What the loader is given, and what the peer is given (the peer cannot skip a broken file). */
  loaderPaths: string[];
  peerFiles: string[];
  lines: number;
  mb: number;
  /** Files the loader must report as failed. */
  failed: number;
}

/** The inputs, generated once into bench/out and reused. */
async function scenarios(outDir: string, lines: number): Promise<Scenario[]> {
  const events = join(outDir, `events-${lines}.ndjson`);
  if (!existsSync(events)) await generateEvents(events, lines, 42);
  const wide = join(outDir, "wide-4000x10k.ndjson");
  if (!existsSync(wide)) writeFileSync(wide, wideEvents(4000, 10_000));
  const dir = join(outDir, "directory");
  if (!existsSync(join(dir, "zz-done"))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeBigFilesDirectory(dir, resolve(here, "../../shared/fixtures/gharchive-2019-02-12-0-4events.ndjson"));
    writeFileSync(join(dir, "zz-done"), "");
  }
  const dirFiles = readdirSync(dir)
    .filter((f) => f.endsWith(".ndjson"))
    .map((f) => join(dir, f))
    .sort();
  const mb = (files: string[]) => files.reduce((n, f) => n + statSync(f).size, 0) / 1e6;
  return [
    { name: "events", loaderPaths: [events], peerFiles: [events], lines, mb: mb([events]), failed: 0 },
    { name: "wide", loaderPaths: [wide], peerFiles: [wide], lines: 4000, mb: mb([wide]), failed: 0 },
    { name: "directory", loaderPaths: [dir], peerFiles: dirFiles, lines: 40_005, mb: mb(dirFiles), failed: 1 },
  ];
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      child: { type: "string" },
      "memory-limit": { type: "string" },
      lines: { type: "string", default: "2000000" },
      rounds: { type: "string", default: "3" },
      only: { type: "string" },
    },
    allowPositionals: true,
  });
  if (typeof values.child === "string") {
    console.log(JSON.stringify(await child(values.child, positionals, values["memory-limit"])));
    return;
  }
  const rounds = Number(values.rounds);
  const outDir = join(here, "out");
  mkdirSync(outDir, { recursive: true });
  for (const scenario of await scenarios(outDir, Number(values.lines))) {
    if (values.only && values.only !== scenario.name) continue;
    console.log(
      `\n${scenario.name}: ${scenario.lines.toLocaleString("en")} lines, ${scenario.mb.toFixed(0)} MB given to both (seeded; reused when present)`,
    );
    const limits = scenario.name === "directory" ? [undefined, "4GB"] : [undefined];
    const peer: Measure[] = [];
    const loader = new Map<string | undefined, Measure[]>(limits.map((l) => [l, []]));
    for (let round = 1; round <= rounds; round++) {
      const p = runChild("peer", scenario.peerFiles);
      peer.push(p);
      let line = `round ${round}: read_ndjson_objects ${p.seconds.toFixed(2)} s (${p.maxRssMb.toFixed(0)} MB)`;
      for (const limit of limits) {
        const l = runChild("loader", scenario.loaderPaths, limit);
        loader.get(limit)!.push(l);
        if (l.rows !== p.rows) throw new Error(`row counts differ: loader ${l.rows}, peer ${p.rows}`);
        if (l.failed !== scenario.failed) throw new Error(`loader failed ${l.failed} files, expected ${scenario.failed}`);
        line += ` | loadNdjson${limit ? ` --memory-limit ${limit}` : ""} ${l.seconds.toFixed(2)} s (${l.maxRssMb.toFixed(0)} MB) ratio ${(l.seconds / p.seconds).toFixed(2)}×`;
      }
      console.log(line);
    }
    const peerSeconds = median(peer.map((m) => m.seconds));
    for (const [limit, measures] of loader) {
      const seconds = median(measures.map((m) => m.seconds));
      const ratio = seconds / peerSeconds;
      const rss = Math.max(...measures.map((m) => m.maxRssMb));
      console.log(
        `  loadNdjson${limit ? ` --memory-limit ${limit}` : ""}: median ${seconds.toFixed(2)} s (${(scenario.mb / seconds).toFixed(0)} MB/s), ` +
          `ratio ${ratio.toFixed(2)}× — target ≤ 1.20× ${ratio <= 1.2 ? "met" : "NOT met"}; ` +
          `peak RSS ${rss.toFixed(0)} MB — target ≤ 600 MB ${rss <= 600 ? "met" : "NOT met"}` +
          (scenario.failed ? `; the truncated gzip failed, named, every other file landed` : ""),
      );
    }
    console.log(
      `  read_ndjson_objects: median ${peerSeconds.toFixed(2)} s, peak RSS ${Math.max(...peer.map((m) => m.maxRssMb)).toFixed(0)} MB`,
    );
  }
}

await main();

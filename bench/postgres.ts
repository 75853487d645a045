/**
 * `load postgres` against `COPY (select * from messages) TO STDOUT` through pg-copy-streams into
 * a file, the fastest way out of PostgreSQL, on the same server and table (seed 002's messages,
 * `--rows` generated rows, PGlite in its own process). Rounds alternate peer and loader so a busy
 * machine slows both; the ratio is of the medians. Target (issue 14): within 1.5× for 1 M rows.
 * Each round also prints the CPU seconds of the PGlite server and of this process (the pg client
 * and, for the loader, DuckDB's threads), which a busy machine stretches less than wall time.
 *
 *   npx tsx bench/postgres.ts [--rows 1000000] [--rounds 3] [--batch-rows 50000]
 */
import { spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { loadPostgres } from "../loaders/postgres/load.ts";
import { Database } from "../runner/database.ts";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    rounds: { type: "string", default: "3" },
    "batch-rows": { type: "string", default: "50000" },
  },
});
const rows = Number(values.rows);
const here = dirname(fileURLToPath(import.meta.url));

const server = spawn(process.execPath, ["--import", "tsx", join(here, "pgliteServer.ts"), "--rows", String(rows)], {
  stdio: ["ignore", "pipe", "inherit"],
});
const port = await new Promise<number>((resolve, reject) => {
  server.stdout!.on("data", (chunk: Buffer) => {
    const match = /ready (\d+)/.exec(chunk.toString());
    if (match) resolve(Number(match[1]));
  });
  server.on("exit", (code) => reject(new Error(`the PGlite server exited with ${code}`)));
});
const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

async function peer(dir: string): Promise<{ seconds: number; rows: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const started = performance.now();
    const out = join(dir, "messages.copy");
    await pipeline(client.query(copyTo("copy (select * from messages) to stdout")), createWriteStream(out));
    const seconds = (performance.now() - started) / 1000;
    const count = await client.query<{ n: string }>("select count(*) as n from messages");
    if (statSync(out).size === 0) throw new Error("COPY wrote nothing");
    return { seconds, rows: Number(count.rows[0]!.n) };
  } finally {
    await client.end();
  }
}

async function loader(dir: string): Promise<{ seconds: number; rows: number }> {
  const db = await Database.open(join(dir, "bench.duckdb"), "bench");
  try {
    const started = performance.now();
    const results = await loadPostgres(db, { url, tables: ["messages"], batchRows: Number(values["batch-rows"]) });
    const seconds = (performance.now() - started) / 1000;
    if (results.some((r) => r.status !== "landed"))
      throw new Error(`a batch did not land: ${JSON.stringify(results.find((r) => r.status !== "landed"))}`);
    return { seconds, rows: results.reduce((n, r) => n + r.rowsLanded, 0) };
  } finally {
    db.close();
  }
}

/** CPU seconds a process has used so far, from /proc (0 where there is none). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = () => loadavg()[0]!.toFixed(1);
try {
  console.log(`load average ${load()} at the start (${rows.toLocaleString("en")} rows)`);
  const times = { peer: [] as number[], loader: [] as number[] };
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [name, run] of [
      ["peer", peer],
      ["loader", loader],
    ] as const) {
      const dir = mkdtempSync(join(tmpdir(), "duckform-bench-pg-"));
      try {
        const serverBefore = cpuSeconds(server.pid!);
        const clientBefore = process.cpuUsage();
        const measured = await run(dir);
        const client = process.cpuUsage(clientBefore);
        if (measured.rows !== rows) throw new Error(`${name} saw ${measured.rows} rows, expected ${rows}`);
        times[name].push(measured.seconds);
        console.log(
          `round ${round + 1} ${name.padEnd(6)} ${measured.seconds.toFixed(2)} s  ${Math.round(rows / measured.seconds).toLocaleString("en")} rows/s  ` +
            `CPU: server ${(cpuSeconds(server.pid!) - serverBefore).toFixed(1)} s, client ${((client.user + client.system) / 1e6).toFixed(1)} s  load ${load()}`,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const ratio = median(times.loader) / median(times.peer);
  console.log(
    `load postgres ${median(times.loader).toFixed(2)} s vs COPY TO STDOUT ${median(times.peer).toFixed(2)} s for ${rows.toLocaleString("en")} rows: ` +
      `ratio ${ratio.toFixed(2)}× (target ≤ 1.5×); load average ${load()} at the end`,
  );
} finally {
  server.kill("SIGTERM");
}

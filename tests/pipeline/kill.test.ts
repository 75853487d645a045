import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { Database } from "../../runner/database.ts";
import { quoteIdent } from "../../runner/quote.ts";
import { duckform } from "../util/cli.ts";
import { pipelineProject } from "../util/pipeline.ts";
import { queryRows } from "../util/tmp.ts";

const BIN = resolve(import.meta.dirname, "..", "..", "bin", "duckform.js");
const KILLS = 20;

/** Row-for-row checksums of every published gold table: row count and an order-free sum of row hashes. */
async function goldChecksums(file: string): Promise<Record<string, string>> {
  const db = await Database.open(file, "gold", { readOnly: true });
  try {
    const columns = await queryRows(
      db,
      "select table_name, column_name, data_type from information_schema.columns where table_catalog = 'gold' and table_schema = 'main' order by table_name, ordinal_position",
    );
    const byTable = new Map<string, string[]>();
    for (const c of columns) {
      // When a row landed is not what it says; doubles are summed by parallel threads in any order.
      if (c.column_name === "_loaded_at") continue;
      const col = quoteIdent(String(c.column_name));
      const expr = /DOUBLE|FLOAT|REAL/.test(String(c.data_type)) ? `round(${col}, 6)` : col;
      byTable.set(String(c.table_name), [...(byTable.get(String(c.table_name)) ?? []), expr]);
    }
    const sums: Record<string, string> = {};
    for (const [table, exprs] of byTable) {
      const [row] = await queryRows(
        db,
        `select count(*)::bigint as n, coalesce(sum(hash(${exprs.join(", ")})), 0)::varchar as h from main.${quoteIdent(table)}`,
      );
      sums[table] = `${row.n}:${row.h}`;
    }
    return sums;
  } finally {
    db.close();
  }
}

/**
 * A seeded sequence of kill points: after the k-th stage line (k from 0 to 9), then a delay. The
 * first ten wait under 100 ms, so they fall in the stage right after the k-th whatever its speed;
 * the rest wait up to 1.5 s, so they also fall deep inside the slow stages.
 */
function killPoints(seed: number, n: number): { afterStages: number; ms: number }[] {
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, (_, i) => ({ afterStages: i % 10, ms: Math.floor(next() * (i < 10 ? 100 : 1500)) }));
}

/**
 * Starts a pipeline and kills it with SIGKILL once it has printed `afterStages` stage lines and
 * `ms` more have passed: points are spread over the stages however fast the machine is.
 */
function runAndKill(
  args: string[],
  point: { afterStages: number; ms: number },
): Promise<{ killed: boolean; code: number | null; output: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stages = 0;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => (timer ??= setTimeout(() => child.kill("SIGKILL"), point.ms));
    if (point.afterStages === 0) arm();
    let buffered = "";
    // What a run that was not killed printed, for the message when it did not succeed.
    let output = "";
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      output += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      stages += lines.filter((l) => /^\S.* \(\d+\.\d s\)$/.test(l)).length;
      if (stages >= point.afterStages) arm();
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ killed: signal === "SIGKILL", code, output: output.slice(-4000) });
    });
  });
}

describe("kill -9 anywhere", () => {
  it(`after SIGKILL at ${KILLS} points in a row, the next pipeline ends with gold identical to an uninterrupted run's`, async () => {
    const clean = await pipelineProject();
    const uninterrupted = await duckform(["pipeline", clean.dir, "--config", clean.config]);
    expect(uninterrupted.code).toBe(0);
    const expected = await goldChecksums(join(clean.dir, "warehouse", "gold.duckdb"));
    expect(Object.keys(expected).length).toBeGreaterThan(15);

    const killedProject = await pipelineProject();
    const args = ["pipeline", killedProject.dir, "--config", killedProject.config];
    let killed = 0;
    // Each restart resumes where the last was killed; its skipped stages print their lines too.
    for (const point of killPoints(13, KILLS)) {
      const r = await runAndKill(args, point);
      if (r.killed) killed++;
      else expect(r.code, `a run after a kill failed; it printed:\n${r.output}`).toBe(0);
    }
    expect(killed).toBeGreaterThanOrEqual(KILLS / 2);
    // Where the kills fell: the stage after the last one each killed run logged as finished.
    const log = readFileSync(join(killedProject.dir, "warehouse", "duckform.pipeline.log"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { runId: string; stage?: string; exitCode?: number });
    const lastStage = new Map<string, string>();
    const finished = new Set(log.filter((l) => l.exitCode !== undefined).map((l) => l.runId));
    for (const l of log) if (l.stage) lastStage.set(l.runId, l.stage);
    const killedAfter = new Set([...lastStage].filter(([runId]) => !finished.has(runId)).map(([, stage]) => stage));
    console.log(`kills fell after these stages: ${[...killedAfter].join(", ")}`);
    expect(killedAfter.size).toBeGreaterThanOrEqual(6);
    const resumed = await duckform(args);
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    expect(existsSync(`${killedProject.database}.pipeline.lock`)).toBe(false);
    expect(await goldChecksums(join(killedProject.dir, "warehouse", "gold.duckdb"))).toEqual(expected);
  }, 600_000);
});

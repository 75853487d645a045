import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LockBusyError, PipelineLock, lockPath } from "../../pipeline/lock.ts";
import { Database } from "../../runner/database.ts";
import { duckform } from "../util/cli.ts";
import { pipelineProject } from "../util/pipeline.ts";
import { queryRows, tempDir } from "../util/tmp.ts";

/** The pid of a process that has just exited: what a lock left by `kill -9` holds. */
function deadPid(): number {
  return spawnSync(process.execPath, ["-e", ""]).pid!;
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("one pipeline at a time", () => {
  it("a second pipeline on the same database exits 4 naming the holder, or waits its turn with --wait; no DuckDB error, data intact", async () => {
    const { dir, config, database } = await pipelineProject();
    const first = duckform(["pipeline", dir, "--config", config]);
    await until(() => existsSync(lockPath(database)), 30_000);
    const holder = JSON.parse(readFileSync(lockPath(database), "utf8")) as { pid: number };

    const refused = await duckform(["pipeline", dir, "--config", config]);
    expect(refused.code).toBe(4);
    expect(refused.stderr.trim()).toBe(
      `duckform: another pipeline is running on this database (process ${holder.pid} on ${hostname()}, running since ${JSON.parse(readFileSync(lockPath(database), "utf8")).startedAt}; ` +
        `lock ${lockPath(database)}); waited 0 s. Run again later, or pass --wait SECONDS to queue behind it`,
    );
    expect(refused.stdout).toBe("");
    const queued = duckform(["pipeline", dir, "--config", config, "--wait", "120"]);

    const [a, b] = await Promise.all([first, queued]);
    for (const r of [refused, a, b]) expect(`${r.stdout}${r.stderr}`).not.toMatch(/DuckDB|IO Error|Conflicting lock|Could not set lock/);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    // The queued one ran after the first had finished: it found everything landed.
    expect(b.stdout).toMatch(/^load events\s+skipped\s+nothing new/m);
    expect(existsSync(lockPath(database))).toBe(false);
    const db = await Database.open(database, "duckform", { readOnly: true });
    try {
      expect(await queryRows(db, "select count(*)::int as n from gold.fct_user_interactions")).toEqual([{ n: 400 }]);
      expect(await queryRows(db, "select count(*)::int as n from raw.load_ledger where status = 'landed'")).toEqual([{ n: 106 }]);
    } finally {
      db.close();
    }
  }, 180_000);

  it("a lock whose process is gone is taken over, and the pipeline says so", async () => {
    const { dir, config, database } = await pipelineProject();
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(dir, "warehouse"), { recursive: true });
    const pid = deadPid();
    writeFileSync(lockPath(database), JSON.stringify({ pid, host: hostname(), startedAt: "2026-01-01T00:00:00.000Z" }));
    const r = await duckform(["pipeline", dir, "--config", config]);
    expect(r.stdout).toContain(`took over a stale lock of process ${pid} (started 2026-01-01T00:00:00.000Z), which is no longer running`);
    expect(r.code).toBe(0);
    expect(existsSync(lockPath(database))).toBe(false);
  }, 120_000);

  it("in-process: a held lock refuses a second holder until released, a half-written lock counts as stale", async () => {
    const database = join(tempDir(), "w.duckdb");
    const held = await PipelineLock.open(database);
    const started = Date.now();
    await expect(PipelineLock.open(database, { waitSeconds: 0.3, pollMs: 50 })).rejects.toBeInstanceOf(LockBusyError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    const waiting = PipelineLock.open(database, { waitSeconds: 5, pollMs: 20 });
    setTimeout(() => held.close(), 100);
    const next = await waiting;
    expect(JSON.parse(readFileSync(lockPath(database), "utf8")).pid).toBe(process.pid);
    next.close();
    writeFileSync(lockPath(database), '{"pid": 12');
    const after = await PipelineLock.open(database);
    expect(after.tookOverFrom).toBeNull();
    after.close();
    expect(existsSync(lockPath(database))).toBe(false);
  });
});

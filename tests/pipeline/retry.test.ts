import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError, UserError } from "../../runner/errors.ts";
import { Database } from "../../runner/database.ts";
import { isTransient } from "../../pipeline/retry.ts";
import { duckform } from "../util/cli.ts";
import { pipelineProject } from "../util/pipeline.ts";
import { queryRows } from "../util/tmp.ts";

const ROOT = resolve(import.meta.dirname, "..", "..");

/** Another process that holds the database file's DuckDB lock for `ms`, as a `duckform run` by hand would; resolves once it holds it. */
function holdDatabase(file: string, ms: number): Promise<{ done: Promise<void> }> {
  const script = `
    import { DuckDBInstance } from "@duckdb/node-api";
    const instance = await DuckDBInstance.create(${JSON.stringify(file)});
    console.log("holding");
    setTimeout(() => { instance.closeSync(); process.exit(0); }, ${ms});`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  const done = new Promise<void>((ok) => child.once("exit", () => ok()));
  return new Promise((ok, fail) => {
    child.stdout.on("data", (d: Buffer) => d.toString().includes("holding") && ok({ done }));
    child.once("exit", (code) => fail(new Error(`the holder exited (${code}) before holding the lock`)));
  });
}

describe("transient failures", () => {
  it("a stage that finds the database locked by another process is retried with backoff and the pipeline succeeds once the lock is gone", async () => {
    const { dir, config, database } = await pipelineProject();
    mkdirSync(dirname(database), { recursive: true });
    const holder = await holdDatabase(database, 5000);
    const result = await duckform(["pipeline", dir, "--config", config]);
    await holder.done;
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/is in use by process \d+ .*; retrying/);
    expect(result.stdout).not.toMatch(/could not complete/);
    const db = await Database.open(database, "duckform", { readOnly: true });
    try {
      const stages = await queryRows(db, "select stage, status from duckform_meta.pipeline_runs");
      expect(stages.every((s) => s.status === "ok")).toBe(true);
      // Every stage of the sample pipeline ran once, the one that met the lock included.
      expect(new Set(stages.map((s) => s.stage)).size).toBe(stages.length);
      expect(stages.length).toBeGreaterThanOrEqual(10);
    } finally {
      db.close();
    }
  }, 300_000);

  it("tells transient errors (a held lock, a dropped connection, a busy file) from ones that fail the same way every time", () => {
    expect(isTransient(new UserError("database /x/duckform.duckdb is in use by process 42 (/usr/bin/node): wait for it to finish"))).toBe(
      true,
    );
    expect(isTransient(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }))).toBe(true);
    expect(isTransient(Object.assign(new Error("resource busy"), { code: "EBUSY" }))).toBe(true);
    expect(isTransient(new UserError('Binder Error: column "x" not found'))).toBe(false);
    expect(isTransient(new UsageError("source path /x matches no file"))).toBe(false);
    expect(isTransient(Object.assign(new Error("no such file"), { code: "ENOENT" }))).toBe(false);
  });
});

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { Database } from "../../runner/database.ts";
import { UserError } from "../../runner/errors.ts";
import { tempDir } from "../util/tmp.ts";

const repo = resolve(import.meta.dirname, "../..");

describe("Database.open", () => {
  it("tells a second writer which process holds the file and what to do, without DuckDB's read-only advice", async () => {
    const file = join(tempDir(), "locked.duckdb");
    const holder = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "-e",
        `const { Database } = await import(${JSON.stringify(join(repo, "runner/database.ts"))});
         await Database.open(${JSON.stringify(file)}, "locked"); console.log("open"); setTimeout(() => {}, 60_000);`,
      ],
      { cwd: repo, stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      await new Promise<void>((ready) => holder.stdout!.on("data", () => ready()));
      const error = await Database.open(file, "locked").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toBe(
        `database ${file} is in use by process ${holder.pid} (${process.execPath}): wait for it to finish and run this again; ` +
          "BI tools and other readers should query the published copy of gold, not this file",
      );
    } finally {
      holder.kill("SIGKILL");
    }
  }, 30_000);

  it("removes the spill folder a killed run left beside the file when it next opens it for writing, and only then", async () => {
    const file = join(tempDir(), "spilled.duckdb");
    (await Database.open(file, "spilled")).close();
    mkdirSync(`${file}.tmp`);
    writeFileSync(join(`${file}.tmp`, "duckdb_temp_storage-0.tmp"), "left by a SIGKILL");
    (await Database.open(file, "spilled", { readOnly: true })).close();
    expect(existsSync(`${file}.tmp`)).toBe(true);
    (await Database.open(file, "spilled")).close();
    expect(existsSync(`${file}.tmp`)).toBe(false);
  });
});

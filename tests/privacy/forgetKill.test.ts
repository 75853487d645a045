import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { Database } from "../../runner/database.ts";
import { duckform } from "../util/cli.ts";
import { mentionsIn } from "../util/mentions.ts";
import { pipelineProject } from "../util/pipeline.ts";
import { queryRows } from "../util/tmp.ts";

const ROOT = resolve(import.meta.dirname, "..", "..");
const VIKTOR = ["Viktor Khan", "viktor.khan", "viktor.khan@earshot.example", "user_0002", "U01CFD8048"];

/** Starts `duckform forget-user` and sends it SIGKILL after `ms` (or lets it end first). */
function killAfter(args: string[], ms: number): Promise<void> {
  const child = spawn(process.execPath, [resolve(ROOT, "bin/duckform.js"), ...args], { stdio: "ignore" });
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  return new Promise((done) => child.once("exit", () => (clearTimeout(timer), done())));
}

describe("forget-user after kill -9", () => {
  it("killed anywhere, then run again, ends as an uninterrupted forget-user: nobody mentions them, one audit row", async () => {
    for (const ms of [1500, 4000]) {
      const { dir, config, database } = await pipelineProject();
      expect((await duckform(["pipeline", dir, "--config", config])).code).toBe(0);
      await killAfter(["forget-user", "user_0002", dir, "--config", config], ms);
      const rerun = await duckform(["forget-user", "user_0002", dir, "--config", config]);
      expect(rerun.stderr).toBe("");
      expect(rerun.code).toBe(0);
      expect(await mentionsIn(database, VIKTOR)).toEqual({});
      expect(await mentionsIn(join(dir, "warehouse", "gold.duckdb"), VIKTOR)).toEqual({});
      const db = await Database.open(database, "duckform", { readOnly: true });
      try {
        expect(await queryRows(db, "select count(*) as n from duckform_meta.privacy_audit where action = 'forget'")).toEqual([{ n: 1 }]);
      } finally {
        db.close();
      }
    }
  }, 600_000);
});

import { join, resolve } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runLoadCommand } from "../../loaders/command.ts";
import type { LandResult } from "../../loaders/land.ts";
import { tempDir } from "../util/tmp.ts";

const PROJECT = resolve(import.meta.dirname, "..", "..");
const result = (fileName: string, status: LandResult["status"], rest: Partial<LandResult> = {}): LandResult => ({
  fileName,
  path: `/exports/${fileName}`,
  status,
  rowsLanded: 0,
  rowsQuarantined: 0,
  ...rest,
});

/** Runs a load command around `results`, with what it printed and the exit code it set. */
async function run(results: LandResult[], report?: Parameters<typeof runLoadCommand>[3], summary?: string) {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, "log").mockImplementation((line: string) => void out.push(line));
  vi.spyOn(console, "error").mockImplementation((line: string) => void err.push(line));
  process.exitCode = undefined;
  let opened = false;
  await runLoadCommand(
    "load test",
    { project: PROJECT, database: join(tempDir(), "load.duckdb") },
    async (db) => {
      opened = db.catalog.length > 0;
      return { results, summary };
    },
    report,
  );
  const exitCode = process.exitCode;
  process.exitCode = undefined;
  return { out, err, exitCode, opened };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("runLoadCommand", () => {
  it("opens the project's database, prints the summary with the source's addition, and leaves the exit code alone when all landed", async () => {
    const { out, err, exitCode, opened } = await run(
      [result("a.json", "landed", { rowsLanded: 3 }), result("b.json", "skipped")],
      {},
      " (raw.test 3)",
    );
    expect(opened).toBe(true);
    expect(err).toEqual([]);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^load test: files 1 landed, 1 skipped, 0 refused; 3 rows landed, 0 quarantined in \d+\.\d s \(raw\.test 3\)$/);
    expect(exitCode).toBeUndefined();
  });

  it("names each refused and failed file, warns where the source says so, and exits 1", async () => {
    const { err, exitCode } = await run(
      [
        result("a.json", "refused", { error: "other content" }),
        result("b.json", "failed", { error: "/exports/b.json: not a readable gzip file" }),
        result("c.json", "landed", { rowsQuarantined: 4 }),
      ],
      { refusedName: (r) => r.fileName, warning: (r) => (r.rowsQuarantined > 1 ? `${r.fileName} is odd` : undefined) },
    );
    expect(err).toEqual([
      "duckform: refused a.json: other content",
      "duckform: failed /exports/b.json: not a readable gzip file; a rerun retries it",
      "duckform: warning: c.json is odd",
    ]);
    expect(exitCode).toBe(1);
  });
});
